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
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeThrown, type Executor, type WorkerEvents, type WorkerExitInfo, type WorkerHandle, type WorkerInit, type WireThrown } from '@mpool/core';
import { encodeFrame, FrameReader, READ_BUFFER_BYTES, writeFrames, type Frame } from './frames.js';
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
    if (socketDir !== undefined) {
      try {
        rmSync(socketDir, { recursive: true, force: true });
      } catch {
        // A directory left in the system's temporary folder harms nothing.
      }
    }
  });
}

/** A path for the next child's socket to listen on. */
function nextSocketPath(): string {
  socketCount++;
  if (process.platform === 'win32') return `\\\\.\\pipe\\mpool-${process.pid}-${socketCount}-${randomBytes(6).toString('hex')}`;
  // mkdtemp makes the directory readable by this user only. A socket's path is limited to about
  // 100 bytes: where the system's temporary folder has a long name, /tmp serves.
  if (socketDir === undefined) {
    socketDir = mkdtempSync(join(tmpdir(), 'mpool-'));
    if (socketDir.length > 80) {
      rmSync(socketDir, { recursive: true, force: true });
      socketDir = mkdtempSync('/tmp/mpool-');
    }
  }
  return join(socketDir, `${socketCount}.sock`);
}

/** A child booted and waiting for its init message: a worker before it is given to a pool. */
export interface BootedChild {
  readonly child: ChildProcess;
  /** Hands the child its init data and its listeners; it becomes a pool's worker. */
  attach(init: WorkerInit, events: WorkerEvents): WorkerHandle;
  /** Lets the waiting child keep the parent alive, or not (a spare must not). */
  setRef(on: boolean): void;
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
    const path = nextSocketPath();
    const inherited = this.#options.start === 'fork' ? process.execArgv : [];
    const child = fork(CHILD_ENTRY, [path], {
      execArgv: [...inherited, ...(this.#options.execArgv ?? [])],
      serialization: 'advanced',
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    });
    living.add(child);
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
      connection.on('error', () => undefined);
      connection.on('close', () => {
        socketDone = true;
        queued = undefined;
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
        if (exit !== undefined || socketDone || !child.connected) throw new Error('the worker process has disconnected');
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
      child,
      setRef,
      attach: (init, listeners) => {
        events = listeners;
        if (ended !== undefined) {
          // It died while waiting: report it now, as if it had died at once.
          const info = ended;
          queueMicrotask(() => listeners.exit(info));
        } else if (exit === undefined) {
          handle.send([INIT_MESSAGE, init]);
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
