/**
 * The entry of every process worker. The first message from the pool is `[INIT, WorkerInit]`;
 * then the shared run loop takes over the IPC channel. A spare process (forkserver) boots and
 * waits here, ready, until the pool needs it.
 */
import { runWorker } from '@mpool/core/worker';
import type { WorkerInit } from '@mpool/core';
import { INIT_MESSAGE } from './init-message.js';

if (process.send === undefined) throw new Error('mpool process worker: started without an IPC channel');
const send = process.send.bind(process);

// The pool went away (its process died or dropped us): nothing to work for.
process.on('disconnect', () => process.exit(0));

let handler: ((message: unknown) => void) | undefined;
const early: unknown[] = [];

process.on('message', (message: unknown) => {
  if (handler !== undefined) {
    handler(message);
  } else if (Array.isArray(message) && message[0] === INIT_MESSAGE) {
    start(message[1] as WorkerInit);
  } else {
    early.push(message);
  }
});

function start(init: WorkerInit): void {
  runWorker(
    {
      post: (message) => {
        // After a disconnect the process is on its way out; there is no one to answer.
        if (process.connected) send(message);
      },
      onMessage: (next) => {
        handler = next;
        for (const message of early.splice(0)) next(message);
      },
      close: () => {
        process.removeAllListeners('disconnect');
        process.disconnect();
      },
    },
    init,
  );
}
