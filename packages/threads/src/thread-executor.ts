/**
 * The Executor on `worker_threads`: each worker is a `Worker` running `worker.js`, which hands its
 * `parentPort` to the shared run loop. Messages travel by structured clone. How far a worker got
 * with its tasks is in memory it shares with this thread, read when it exits (progress.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, Worker, type MessagePort, type ResourceLimits } from 'node:worker_threads';
import { typeScriptLoader, workerEnv, type EnvOverrides, type Executor, type WorkerEvents, type WorkerHandle, type WorkerInit } from '@mpool/core';
import { progressCells, readLastWord } from './progress.js';

/**
 * What a worker thread runs: worker.js, bundled by the build with the run loop into one file
 * (scripts/bundle-workers.mjs, at the workspace's root), which a thread loads in half the time of
 * the files it is built from; a tree built by tsc alone has only the files.
 */
const WORKER_ENTRY = [join(__dirname, 'worker.bundle.js'), join(__dirname, 'worker.js')].find((file) => existsSync(file))!;

/** What a worker thread starts with (`workerData`). */
export interface ThreadWorkerData {
  readonly init: WorkerInit;
  /** tsx's package.json when the pool's program runs under tsx: task modules may be TypeScript. */
  readonly typeScript?: string;
  /** Its end of the port to this thread, when the executor serves one (`host`). */
  readonly creator?: MessagePort;
  /** Where its run loop counts its tasks, for its last word (progress.ts). */
  readonly progress: Int32Array;
  /**
   * The `NODE_OPTIONS` its environment is to have once it runs (a string, or `null` for none):
   * given when the executor's `execArgv` reached it through that variable, which the worker's
   * own child processes must not inherit.
   */
  readonly nodeOptions?: string | null;
}

export interface ThreadExecutorOptions {
  /** V8 heap and stack limits for each worker thread (Node's `resourceLimits`). */
  readonly resourceLimits?: ResourceLimits;
  /**
   * Serves, in the thread that starts the workers, what a worker asks of it on a port of its own
   * (the worker's end is `creatorPort()` of @mpool/core). @mpool/pool gives the process backend's,
   * so that child processes started in a worker thread belong to this thread, which outlives it.
   * Default: none; the workers get no port.
   */
  readonly host?: (port: MessagePort) => void;
  /** Variables of each worker's environment, over the parent's (see workerEnv). Default: the parent's. */
  readonly env?: EnvOverrides;
  /**
   * Node flags for each worker, added to those a worker thread inherits; only flags a worker
   * thread accepts (the caller checks). Default: none.
   */
  readonly execArgv?: readonly string[];
}

/** A flag as `NODE_OPTIONS` reads it: in double quotes, its quotes and backslashes escaped. */
function quoteFlag(flag: string): string {
  return `"${flag.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * The environment of a worker thread, when the pool's `env` or `execArgv` asks for one of its
 * own (otherwise `undefined`: a copy of the parent's), and, when `execArgv` travels in its
 * NODE_OPTIONS, what that variable was before (`null`: unset), for the thread to put back.
 */
function environmentOf({ env, execArgv = [] }: ThreadExecutorOptions): { environment?: Record<string, string>; nodeOptions?: string | null } {
  if (env === undefined && execArgv.length === 0) return {};
  const environment = workerEnv(env ?? {});
  if (execArgv.length === 0) return { environment };
  // A thread given `execArgv` takes those flags instead of the ones it inherits; given in its
  // NODE_OPTIONS, they come on top of them, as a process's come on top of its context's.
  const nodeOptions = environment.NODE_OPTIONS ?? null;
  environment.NODE_OPTIONS = [nodeOptions ?? '', ...execArgv.map(quoteFlag)].join(' ').trim();
  return { environment, nodeOptions };
}

export class ThreadExecutor implements Executor {
  readonly #options: ThreadExecutorOptions;

  constructor(options: ThreadExecutorOptions = {}) {
    this.#options = options;
  }

  start(init: WorkerInit, events: WorkerEvents): WorkerHandle {
    // Under tsx, the thread registers tsx's hooks itself where its flags do not reach it.
    const typeScript = typeScriptLoader()?.packageJson;
    const progress = progressCells();
    let workerData: ThreadWorkerData = { init, typeScript, progress };
    const transferList: MessagePort[] = [];
    if (this.#options.host !== undefined) {
      const { port1, port2 } = new MessageChannel();
      this.#options.host(port1);
      workerData = { ...workerData, creator: port2 };
      transferList.push(port2);
    }
    const { environment, nodeOptions } = environmentOf(this.#options);
    if (nodeOptions !== undefined) workerData = { ...workerData, nodeOptions };
    const worker = new Worker(WORKER_ENTRY, {
      workerData,
      transferList,
      resourceLimits: this.#options.resourceLimits,
      env: environment,
    });
    let uncaught: unknown;
    worker.on('message', events.message);
    worker.on('error', (error) => {
      uncaught = error;
    });
    worker.on('messageerror', (error) => {
      // A message from the worker that cannot be read would leave its jobs waiting forever:
      // end the worker, so that they are failed or run again as after any crash.
      uncaught = error;
      void worker.terminate();
    });
    worker.once('exit', (code) => {
      events.exit({ code, signal: null, error: uncaught, lastWord: readLastWord(progress) });
    });
    return {
      id: worker.threadId,
      send: (message, transfer) => worker.postMessage(message, transfer),
      terminate: async () => {
        await worker.terminate();
      },
      ref: () => worker.ref(),
      unref: () => worker.unref(),
    };
  }
}
