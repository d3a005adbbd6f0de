/**
 * The Executor on `child_process`: each worker is a Node process running `child.js`. Protocol
 * messages travel on a socket of their own, framed by frames.ts (structured clone, as Node's
 * advanced IPC serialization, so Map, Set, Date, BigInt and typed arrays travel as they do to a
 * thread; errors travel as the core protocol's plain data, which keeps their own properties such
 * as `code`), with the memory this side reads into reused from message to message. Node's IPC
 * channel stays for what is not the protocol: the child says when its socket listens, and the
 * channel's end tells each side that the other is gone.
 *
 * The child listens, on a path in a directory only this user can enter (socket-dir.ts), and the
 * pool connects: only a socket this side opens can read into a buffer of its own (`onread`). The
 * child is started by `launch` (child-host.ts): by this thread, or, in a worker thread that mpool
 * started, by the thread that started it, which outlives it and so can reap it. What happens to it
 * then is process-worker.ts's.
 */
import { PackedNumbersCodec, typeScriptLoader, workerEnv, WorkerGoneError, type EnvOverrides, type Executor, type WorkerEvents, type WorkerHandle, type WorkerInit } from '@mpool/core';
import { launch } from './child-host.js';
import type { ChildLink } from './child-link.js';
import { adopt } from './children.js';
import { forkableFlags } from './inherited-flags.js';
import { ProcessWorker, type BootedChild } from './process-worker.js';
import { nextSocketPath } from './socket-dir.js';

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
      // 'spawn' takes nothing of the parent's execArgv but the TypeScript loader task modules may
      // need; 'fork' takes all but what would make the child run something else (inherited-flags.ts).
      const inherited = this.#options.start === 'fork' ? forkableFlags(process.execArgv) : (typeScriptLoader()?.execArgv ?? []);
      const { env } = this.#options;
      child = launch([path], [...inherited, ...(this.#options.execArgv ?? [])], env === undefined ? undefined : workerEnv(env));
    } catch (error) {
      return failedBoot(error);
    }
    adopt(child);
    return new ProcessWorker(child, path);
  }
}
