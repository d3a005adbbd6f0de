/**
 * The Executor on `child_process`: each worker is a Node process running `child.js`. Protocol
 * messages travel on a socket of their own, framed by frames.ts (structured clone, as Node's
 * advanced IPC serialization, so Map, Set, Date, BigInt and typed arrays travel as they do to a
 * thread; errors travel as the core protocol's plain data, which keeps their own properties such
 * as `code`), with the memory this side reads into reused from message to message. Node's IPC
 * channel stays for what is not the protocol: the child says when its socket listens, and the
 * channel's end tells each side that the other is gone.
 *
 * The child listens, on a path in a directory only this user can enter, and the pool connects:
 * only a socket this side opens can read into a buffer of its own (`onread`). The child is
 * started by `launch` (child-host.ts): by this thread, or, in a worker thread that mpool started,
 * by the thread that started it, which outlives it and so can reap it.
 */
import { createConnection, type Socket } from 'node:net';
import { decodeThrown, PackedNumbersCodec, typeScriptLoader, workerEnv, WorkerGoneError, type EnvOverrides, type Executor, type WorkerEvents, type WorkerExitInfo, type WorkerHandle, type WorkerInit, type WireThrown } from '@mpool/core';
import { launch } from './child-host.js';
import type { ChildLink } from './child-link.js';
import { adopt, forget, nextSocketPath } from './children.js';
import { encodeFrame, FrameReader, holdBlocks, READ_BUFFER_BYTES, writeFrames, type Frame } from './frames.js';
import { INIT_MESSAGE, LISTENING_MESSAGE, UNCAUGHT_MESSAGE } from './messages.js';

/** How long `terminate()` waits after SIGTERM before it sends SIGKILL. */
export const TERMINATE_GRACE_MS = 500;

export interface ProcessExecutorOptions {
  /**
   * `'fork'`: the child inherits the parent's `execArgv` (loaders such as tsx) and environment.
   * `'spawn'`: a fresh Node with none of the parent's `execArgv`, but for a TypeScript loader
   *   (tsx) the parent runs under, which task modules written in TypeScript need.
   */
  readonly start: 'fork' | 'spawn';
  /** Extra Node flags for every child, e.g. `--max-old-space-size=512`. */
  readonly execArgv?: readonly string[];
  /** Variables of every child's environment, over the parent's (see workerEnv). Default: the parent's. */
  readonly env?: EnvOverrides;
}

/**
 * After a child has exited, how long its socket may take to be read to its end before it is
 * closed anyway. The end comes at once when the child is gone; this only bounds the wait.
 */
const SOCKET_DRAIN_MS = 2_000;

/** A child booted and waiting for its init message: a worker before it is given to a pool. */
export interface BootedChild {
  /** Whether the child has exited, is on its way out, or never started: no use as a worker. */
  readonly exited: boolean;
  /** Hands the child its init data and its listeners; it becomes a pool's worker. */
  attach(init: WorkerInit, events: WorkerEvents): WorkerHandle;
  /** Lets the waiting child keep the parent alive, or not (a spare must not). */
  setRef(on: boolean): void;
  /** Kills the child at once; resolves once it is gone, keeping the parent alive until then. */
  kill(): Promise<void>;
}

/**
 * A child that could not be started: as a worker, it exits at once with the reason, so that the
 * pool counts it as a worker that failed to start (and gives up after a few in a row) instead of
 * the caller getting an exception from wherever the pool happened to replace a worker.
 */
function failedBoot(error: unknown): BootedChild {
  return {
    exited: true,
    setRef: () => undefined,
    kill: () => Promise.resolve(),
    attach: (_init, events) => {
      queueMicrotask(() => events.exit({ code: null, signal: null, error }));
      return {
        id: -1,
        send: () => {
          throw new WorkerGoneError('the worker process never started');
        },
        terminate: () => Promise.resolve(),
        ref: () => undefined,
        unref: () => undefined,
      };
    },
  };
}

export class ProcessExecutor implements Executor {
  /** The channel sends packed chunks of numbers as they are, beside each message (frames.ts). */
  readonly codec = new PackedNumbersCodec();
  readonly #options: ProcessExecutorOptions;

  constructor(options: ProcessExecutorOptions) {
    this.#options = options;
  }

  start(init: WorkerInit, events: WorkerEvents): WorkerHandle {
    return this.boot().attach(init, events);
  }

  /** Starts a child process that waits for its init message. */
  boot(): BootedChild {
    let path: string;
    let child: ChildLink;
    try {
      path = nextSocketPath();
      // 'spawn' takes nothing of the parent's execArgv but the TypeScript loader task modules may need.
      const inherited = this.#options.start === 'fork' ? process.execArgv : (typeScriptLoader()?.execArgv ?? []);
      const { env } = this.#options;
      child = launch([path], [...inherited, ...(this.#options.execArgv ?? [])], env === undefined ? undefined : workerEnv(env));
    } catch (error) {
      return failedBoot(error);
    }
    adopt(child);
    let events: WorkerEvents | undefined;
    /** How the child ended, once it has and its socket is read to the end. */
    let ended: WorkerExitInfo | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let failure: unknown;
    let referenced = true;
    let socket: Socket | undefined;
    let socketDone = false;
    /** Frames sent before the socket connected, written once it has. */
    let queued: Frame[] | undefined = [];

    const onMessage = (message: unknown): void => {
      if (Array.isArray(message) && message[0] === UNCAUGHT_MESSAGE) failure = decodeThrown(message[1] as WireThrown);
      else events?.message(message);
    };
    const finish = (): void => {
      if (ended !== undefined || exit === undefined || !socketDone) return;
      ended = { ...exit, error: failure };
      events?.exit(ended);
    };
    const connect = (): void => {
      const reader = new FrameReader(onMessage, { reused: true });
      const connection = createConnection({
        path,
        onread: {
          buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
          callback: (bytes: number, buffer: Uint8Array) => {
            try {
              reader.push(buffer.subarray(0, bytes));
            } catch (error) {
              // A frame that does not decode: the channel can no longer be trusted.
              failure ??= error;
              child.kill('SIGKILL');
              connection.destroy();
            }
            return true; // go on reading
          },
        },
      });
      socket = connection;
      connection.on('connect', () => {
        const frames = queued ?? [];
        queued = undefined;
        if (frames.length > 0) writeFrames(connection, frames);
      });
      // Errors end the socket (a child that died resets it): its 'close' follows, and the
      // child's exit says what happened.
      let lastError: unknown;
      let peerEnded = false;
      connection.on('error', (error) => {
        lastError = error;
      });
      connection.on('end', () => {
        peerEnded = true;
      });
      connection.on('close', () => {
        socketDone = true;
        queued = undefined;
        // A socket that failed while its child lives (it could not connect, say, because its
        // path was removed): the child can never hear from the pool, so it must not wait for it.
        if (exit === undefined && !peerEnded) {
          failure ??= new Error(`the worker process's socket closed${lastError instanceof Error ? `: ${lastError.message}` : ''}`, { cause: lastError });
          child.kill('SIGKILL');
        }
        finish();
      });
      if (!referenced) connection.unref();
    };

    child.onError((error) => {
      // Spawn failures and sends on a closed channel; the exit that follows tells the pool.
      failure ??= error;
    });
    child.onMessage((message) => {
      if (Array.isArray(message) && message[0] === LISTENING_MESSAGE) {
        if (socket === undefined) connect();
      } else {
        onMessage(message);
      }
    });
    // 'close' comes after the IPC channel has been read to its end; the exit is reported once
    // the socket has been read to its end too, so no result is lost to a race with the exit.
    child.onClose((code, signal) => {
      forget(child);
      exit = { code, signal };
      if (socket === undefined) socketDone = true;
      else if (!socketDone) setTimeout(() => socket?.destroy(), SOCKET_DRAIN_MS).unref();
      finish();
    });
    const setRef = (on: boolean): void => {
      referenced = on;
      if (on) {
        child.ref();
        socket?.ref();
      } else {
        child.unref();
        socket?.unref();
      }
    };
    const handle: WorkerHandle = {
      get id() {
        return child.pid ?? -1; // (known a little later where another thread starts it)
      },
      send: (message) => {
        // A child whose IPC channel has closed is leaving, or was told to by its task: it is sent
        // nothing more, and the pool ends it once it has answered what it has.
        if (exit !== undefined || socketDone || socket?.destroyed === true || !child.connected) throw new WorkerGoneError('the worker process has disconnected');
        const frame = encodeFrame(message);
        if (queued !== undefined) {
          queued.push(frame);
          holdBlocks(frame);
        } else if (!writeFrames(socket as Socket, [frame])) {
          holdBlocks(frame);
        }
      },
      terminate: () => terminateChild(child),
      ref: () => setRef(true),
      unref: () => setRef(false),
    };
    return {
      get exited() {
        // (A child whose socket is gone is on its way out: killed, or about to be.)
        return exit !== undefined || socketDone || child.exitCode !== null || child.signalCode !== null;
      },
      setRef,
      kill: () => {
        if (exit !== undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
        return new Promise<void>((resolve) => {
          // Once it is closed, not only exited: gone from the living, its sockets' directory with it.
          child.onClose(() => resolve());
          child.ref(); // whoever awaits this waits for the child to go
          child.kill('SIGKILL');
        });
      },
      attach: (init, listeners) => {
        events = listeners;
        if (ended !== undefined) {
          // It died while waiting: report it now, as if it had died at once.
          const info = ended;
          queueMicrotask(() => listeners.exit(info));
        } else if (exit === undefined && !socketDone) {
          try {
            handle.send([INIT_MESSAGE, init]);
          } catch (error) {
            // The init data cannot be copied: a worker that cannot start, reported as its exit.
            failure ??= error;
            child.kill('SIGKILL');
          }
        }
        // (A child that has exited but whose socket is still being read reports when it is.)
        if (!referenced) setRef(false);
        return handle;
      },
    };
  }
}

/** SIGTERM, then SIGKILL after TERMINATE_GRACE_MS; resolves once the process is gone. */
function terminateChild(child: ChildLink): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), TERMINATE_GRACE_MS);
    timer.unref();
    child.onExit(() => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
