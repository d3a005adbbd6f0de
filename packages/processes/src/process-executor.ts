/**
 * The Executor on `child_process`: each worker is a Node process running `child.js`, talking over
 * the IPC channel with `serialization: 'advanced'` (the structured clone algorithm, so Map, Set,
 * Date, BigInt and typed arrays travel as they do to a thread; errors travel as the core
 * protocol's plain data, which keeps their own properties such as `code`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { decodeThrown, type Executor, type WorkerEvents, type WorkerHandle, type WorkerInit, type WireThrown } from '@mpool/core';
import { INIT_MESSAGE, UNCAUGHT_MESSAGE } from './messages.js';

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

/** Every child any executor started and that is still alive, to kill if the parent exits. */
const living = new Set<ChildProcess>();
let exitHookInstalled = false;

function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Runs on a normal exit and after an uncaught exception alike: no child outlives its parent.
  process.on('exit', () => {
    for (const child of living) child.kill('SIGKILL');
  });
}

/** A child booted and waiting for its init message: a worker before it is given to a pool. */
export interface BootedChild {
  readonly child: ChildProcess;
  /** Hands the child its init data and its listeners; it becomes a pool's worker. */
  attach(init: WorkerInit, events: WorkerEvents): WorkerHandle;
}

export class ProcessExecutor implements Executor {
  readonly kind = 'process';
  /** The IPC channel's serializer copies a typed array view's own bytes: chunks of numbers go as bytes. */
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
    const inherited = this.#options.start === 'fork' ? process.execArgv : [];
    const child = fork(CHILD_ENTRY, [], {
      execArgv: [...inherited, ...(this.#options.execArgv ?? [])],
      serialization: 'advanced',
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    });
    living.add(child);
    let events: WorkerEvents | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let failure: unknown;
    let referenced = true;
    child.on('error', (error) => {
      // Spawn failures and sends on a closed channel; the exit that follows tells the pool.
      failure ??= error;
    });
    child.on('message', (message: unknown) => {
      if (Array.isArray(message) && message[0] === UNCAUGHT_MESSAGE) failure = decodeThrown(message[1] as WireThrown);
      else events?.message(message);
    });
    // 'close' comes after the IPC channel has been read to its end, so no result is lost to a
    // race between the last message and the exit.
    child.once('close', (code, signal) => {
      living.delete(child);
      exit = { code, signal };
      events?.exit({ code, signal, error: failure });
    });
    const setRef = (on: boolean): void => {
      referenced = on;
      if (on) {
        child.ref();
        child.channel?.ref();
      } else {
        child.unref();
        child.channel?.unref();
      }
    };
    const handle: WorkerHandle = {
      id: child.pid ?? -1,
      send: (message) => {
        if (!child.connected) throw new Error('the worker process has disconnected');
        child.send(message);
      },
      terminate: () => terminateChild(child),
      ref: () => setRef(true),
      unref: () => setRef(false),
    };
    return {
      child,
      attach: (init, listeners) => {
        events = listeners;
        if (exit !== undefined) {
          // It died while waiting: report it now, as if it had died at once.
          const info = { ...exit, error: failure };
          queueMicrotask(() => listeners.exit(info));
        } else {
          child.send([INIT_MESSAGE, init]);
        }
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
