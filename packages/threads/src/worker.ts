/** The entry of every thread worker: the shared run loop, listening on `parentPort`. */
import { parentPort, workerData } from 'node:worker_threads';
import { runWorker } from '@mpool/core/worker';
import type { WorkerInit } from '@mpool/core';

if (parentPort === null) throw new Error('mpool thread worker: started outside a worker thread');
const port = parentPort;
runWorker(
  {
    post: (message) => port.postMessage(message),
    onMessage: (handler) => port.on('message', handler),
    close: () => port.close(),
  },
  workerData as WorkerInit,
);
