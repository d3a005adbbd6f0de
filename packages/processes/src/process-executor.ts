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
 * only a socket this side opens can read into a buffer of its own (`onread`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeThrown, WorkerGoneError, type Executor, type WorkerEvents, type WorkerExitInfo, type WorkerHandle, type WorkerInit, type WireThrown } from '@mpool/core';
import { encodeFrame, FrameReader, READ_BUFFER_BYTES, writeFrames, type Frame } from './frames.js';
import { LIFELINE_FD } from './lifeline.js';
import { INIT_MESSAGE, LISTENING_MESSAGE, UNCAUGHT_MESSAGE } from './messages.js';

const CHILD_ENTRY = join(__dirname, 'child.js');

/** How long `terminate()` waits after SIGTERM before it sends SIGKILL. */
export const TERMINATE_GRACE_MS = 500;

export interface ProcessExecutorOptions {
  /**
   * `'fork'`: the child inherits the parent's `execArgv` (loaders such as tsx) and environment.
   * `'spawn'`: a fresh Node with none of the parent's `execArgv`.
   */
  readonly start: 'fork' | 'spawn';
  /** Extra Node flags for every child, e.g. `--max-old-space-size=512`. */
  readonly execArgv?: readonly string[];
}

/**
 * After a child has exited, how long its socket may take to be read to its end before it is
 * closed anyway. The end comes at once when the child is gone; this only bounds the wait.
 */
const SOCKET_DRAIN_MS = 2_000;

/** Every child any executor started and that is still alive, to kill if the parent exits. */
const living = new Set<ChildProcess>();
let exitHookInstalled = false;
/** Where the children's sockets are made: a directory of this process's, only its user may enter. */
let socketDir: string | undefined;
let socketCount = 0;

function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Runs on a normal exit and after an uncaught exception alike: no child outlives its parent.
  process.on('exit', () => {
    for (const child of living) child.kill('SIGKILL');
    removeSocketDir();
  });
}

/**
 * Removes the sockets' directory, with any socket a child left in it (one killed before the pool
 * connected). Done when the last child is gone, and at exit: a program that keeps no process
 * workers keeps no directory, even where its 'exit' listeners never run (a test runner's
 * sandbox, a SIGKILL).
 */
function removeSocketDir(): void {
  if (socketDir === undefined) return;
  try {
    rmSync(socketDir, { recursive: true, force: true });
  } catch {
    // A directory left in the system's temporary folder harms nothing.
  }
  socketDir = undefined;
}

/** A path for the next child's socket to listen on. */
function nextSocketPath(): string {
  socketCount++;
  if (process.platform === 'win32') return `\\\\.\\pipe\\mpool-${process.pid}-${socketCount}-${randomBytes(6).toString('hex')}`;
  // Made again if something (a cleaner of the temporary folder) removed it since.
  if (socketDir === undefined || !existsSync(socketDir)) socketDir = makeSocketDir();
  return join(socketDir, `${socketCount}.sock`);
}

/**
 * A directory for sockets that only this user may enter (mkdtemp's mode), in the system's
 * temporary folder, or in /tmp where that cannot be used or its name is too long (a socket's
 * path is limited to about 100 bytes).
 */
function makeSocketDir(): string {
  const tried: string[] = [];
  for (const parent of new Set([tmpdir(), '/tmp'])) {
    try {
      const dir = mkdtempSync(join(parent, 'mpool-'));
      if (dir.length <= 80) return dir;
      rmSync(dir, { recursive: true, force: true });
      tried.push(`${parent}: its name is too long for a socket's path`);
    } catch (error) {
      tried.push(`${parent}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(
    `mpool: process workers need a directory for their sockets, and none could be made (${tried.join('; ')}). Set TMPDIR to a directory this user can write to.`,
  );
}

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
  readonly kind = 'process';
  /** The channel sends packed chunks of numbers as they are, beside each message (frames.ts). */
  readonly packsNumbers = true;
  readonly #options: ProcessExecutorOptions;

  constructor(options: ProcessExecutorOptions) {
    this.#options = options;
  }

  start(init: WorkerInit, events: WorkerEvents): WorkerHandle {
    return this.boot().attach(init, events);
  }

  /** Starts a child process that waits for its init message. */
  boot(): BootedChild {
    killAllOnExit();
    let path: string;
    let child: ChildProcess;
    try {
      path = nextSocketPath();
      const inherited = this.#options.start === 'fork' ? process.execArgv : [];
      child = fork(CHILD_ENTRY, [path], {
        execArgv: [...inherited, ...(this.#options.execArgv ?? [])],
        serialization: 'advanced',
        // The lifeline (lifeline.ts) last, in its slot: its end here closes when this process dies.
        stdio: ['inherit', 'inherit', 'inherit', 'ipc', 'pipe'],
      });
    } catch (error) {
      return failedBoot(error);
    }
    living.add(child);
    // It tells the child only that this process is gone: it never keeps this one alive.
    (child.stdio[LIFELINE_FD] as Socket | null)?.unref();
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

    child.on('error', (error) => {
      // Spawn failures and sends on a closed channel; the exit that follows tells the pool.
      failure ??= error;
    });
    child.on('message', (message: unknown) => {
      if (Array.isArray(message) && message[0] === LISTENING_MESSAGE) {
        if (socket === undefined) connect();
      } else {
        onMessage(message);
      }
    });
    // 'close' comes after the IPC channel has been read to its end; the exit is reported once
    // the socket has been read to its end too, so no result is lost to a race with the exit.
    child.once('close', (code, signal) => {
      living.delete(child);
      if (living.size === 0) removeSocketDir();
      exit = { code, signal };
      if (socket === undefined) socketDone = true;
      else if (!socketDone) setTimeout(() => socket?.destroy(), SOCKET_DRAIN_MS).unref();
      finish();
    });
    const setRef = (on: boolean): void => {
      referenced = on;
      if (on) {
        child.ref();
        child.channel?.ref();
        socket?.ref();
      } else {
        child.unref();
        child.channel?.unref();
        socket?.unref();
      }
    };
    const handle: WorkerHandle = {
      id: child.pid ?? -1,
      send: (message) => {
        // A child whose IPC channel has closed is leaving, or was told to by its task: it is sent
        // nothing more, and the pool ends it once it has answered what it has.
        if (exit !== undefined || socketDone || socket?.destroyed === true || !child.connected) throw new WorkerGoneError('the worker process has disconnected');
        const frame = encodeFrame(message);
        if (queued !== undefined) {
          queued.push(frame);
          return false;
        }
        return writeFrames(socket as Socket, [frame]);
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
          child.once('exit', () => resolve());
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
function terminateChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), TERMINATE_GRACE_MS);
    timer.unref();
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
