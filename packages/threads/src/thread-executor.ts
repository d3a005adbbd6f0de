/**
 * The Executor on `worker_threads`: each worker is a `Worker` running `worker.js`, which hands its
 * `parentPort` to the shared run loop. Messages travel by structured clone. How far a worker got
 * with its tasks is in memory it shares with this thread, read when it exits (progress.ts).
 */
import { join } from 'node:path';
import { MessageChannel, Worker, type MessagePort, type ResourceLimits } from 'node:worker_threads';
import { typeScriptLoader, type Executor, type WorkerEvents, type WorkerHandle, type WorkerInit } from '@mpool/core';
import { progressCells, readLastWord } from './progress.js';

const WORKER_ENTRY = join(__dirname, 'worker.js');

/** What a worker thread starts with (`workerData`). */
export interface ThreadWorkerData {
  readonly init: WorkerInit;
  /** tsx's package.json when the pool's program runs under tsx: task modules may be TypeScript. */
  readonly typeScript?: string;
  /** Its end of the port to this thread, when the executor serves one (`host`). */
  readonly creator?: MessagePort;
  /** Where its run loop counts its tasks, for its last word (progress.ts). */
  readonly progress: Int32Array;
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
      workerData = { init, typeScript, progress, creator: port2 };
      transferList.push(port2);
    }
    const worker = new Worker(WORKER_ENTRY, {
      workerData,
      transferList,
      resourceLimits: this.#options.resourceLimits,
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
