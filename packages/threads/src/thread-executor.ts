/**
 * The Executor on `worker_threads`: each worker is a `Worker` running `worker.js`, which hands its
 * `parentPort` to the shared run loop. Messages travel by structured clone.
 */
import { join } from 'node:path';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { typeScriptLoader, type Executor, type WorkerEvents, type WorkerHandle, type WorkerInit } from '@mpool/core';
import type { ThreadWorkerData } from './worker.js';

const WORKER_ENTRY = join(__dirname, 'worker.js');

export interface ThreadExecutorOptions {
  /** V8 heap and stack limits for each worker thread (Node's `resourceLimits`). */
  readonly resourceLimits?: ResourceLimits;
}

export class ThreadExecutor implements Executor {
  readonly kind = 'thread';
  readonly #options: ThreadExecutorOptions;

  constructor(options: ThreadExecutorOptions = {}) {
    this.#options = options;
  }

  start(init: WorkerInit, events: WorkerEvents): WorkerHandle {
    // Under tsx, the thread registers tsx's hooks itself where its flags do not reach it.
    const workerData: ThreadWorkerData = { init, typeScript: typeScriptLoader()?.packageJson };
    const worker = new Worker(WORKER_ENTRY, {
      workerData,
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
      events.exit({ code, signal: null, error: uncaught });
    });
    return {
      id: worker.threadId,
      send: (message) => worker.postMessage(message),
      terminate: async () => {
        await worker.terminate();
      },
      ref: () => worker.ref(),
      unref: () => worker.unref(),
    };
  }
}
