/** The entry of every thread worker: the shared run loop, listening on `parentPort`. */
import { parentPort, workerData } from 'node:worker_threads';
import { runWorker, useTypeScript } from '@mpool/core/worker';
import type { WorkerInit } from '@mpool/core';

/** What a thread worker is started with. */
export interface ThreadWorkerData {
  readonly init: WorkerInit;
  /** tsx's package.json when the pool's program runs under tsx: task modules may be TypeScript. */
  readonly typeScript?: string;
}

if (parentPort === null) throw new Error('mpool thread worker: started outside a worker thread');
const port = parentPort;
const { init, typeScript } = workerData as ThreadWorkerData;
if (typeScript !== undefined) useTypeScript(typeScript);
runWorker(
  {
    post: (message) => port.postMessage(message),
    onMessage: (handler) => port.on('message', handler),
    close: () => port.close(),
  },
  init,
);
