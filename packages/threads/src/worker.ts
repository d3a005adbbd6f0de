/** The entry of every thread worker: the shared run loop, listening on `parentPort`. */
import { parentPort, workerData } from 'node:worker_threads';
import { runWorker, setCreatorPort, useTypeScript } from '@mpool/core/worker';
import { progressWriter } from './progress.js';
import type { ThreadWorkerData } from './thread-executor.js';

if (parentPort === null) throw new Error('mpool thread worker: started outside a worker thread');
const port = parentPort;
const { init, typeScript, creator, progress, nodeOptions } = workerData as ThreadWorkerData;
// The pool's execArgv came through NODE_OPTIONS, for this thread only, not for its children.
if (nodeOptions === null) delete process.env.NODE_OPTIONS;
else if (nodeOptions !== undefined) process.env.NODE_OPTIONS = nodeOptions;
if (typeScript !== undefined) useTypeScript(typeScript);
if (creator !== undefined) setCreatorPort(creator);
runWorker(
  {
    post: (message, transfer) => port.postMessage(message, transfer),
    onMessage: (handler) => port.on('message', handler),
    close: () => port.close(),
    progress: progressWriter(progress),
  },
  init,
);
