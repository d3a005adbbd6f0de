/**
 * The entry of every process worker. The first message from the pool is `[INIT, WorkerInit]`;
 * then the shared run loop takes over the IPC channel. A spare process (forkserver) boots and
 * waits here, ready, until the pool needs it.
 */
import { inspect } from 'node:util';
import { encodeThrown, runWorker } from '@mpool/core/worker';
import type { WorkerInit } from '@mpool/core';
import { INIT_MESSAGE, UNCAUGHT_MESSAGE } from './messages.js';

if (process.send === undefined) throw new Error('mpool process worker: started without an IPC channel');
const send = process.send.bind(process);

// The pool went away (its process died or dropped us): nothing to work for.
process.on('disconnect', () => process.exit(0));

/** Node's exit code for an uncaught exception. */
const UNCAUGHT_EXIT_CODE = 1;

// An error thrown outside any task (in a timer, an unhandled rejection) ends the worker as it
// would end Node, but first tells the pool what it was, so the task that dies with it has a cause.
process.on('uncaughtException', (error) => {
  process.stderr.write(`Uncaught ${inspect(error)}\n`);
  if (!process.connected) process.exit(UNCAUGHT_EXIT_CODE);
  send([UNCAUGHT_MESSAGE, encodeThrown(error)], () => process.exit(UNCAUGHT_EXIT_CODE));
});

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
      packsNumbers: true,
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
