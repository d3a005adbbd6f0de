/**
 * The entry of every process worker. It listens on the socket path it is given, tells the pool
 * over the IPC channel, and takes the pool's one connection; the first message on it is
 * `[INIT, WorkerInit]`, then the shared run loop takes the socket over. A spare process
 * (forkserver) boots and waits here, connected, until the pool needs it.
 */
import { createServer, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { encodeThrown, runWorker } from '@mpool/core/worker';
import type { WorkerInit } from '@mpool/core';
import { encodeFrame, FrameReader, writeFrames } from './frames.js';
import { INIT_MESSAGE, LISTENING_MESSAGE, UNCAUGHT_MESSAGE } from './messages.js';

const socketPath = process.argv[2];
if (process.send === undefined || socketPath === undefined) throw new Error('mpool process worker: started without an IPC channel or a socket path');
const sendIpc = process.send.bind(process);

// The pool went away (its process died or dropped us): nothing to work for.
process.on('disconnect', () => process.exit(0));

/** Node's exit code for an uncaught exception. */
const UNCAUGHT_EXIT_CODE = 1;

let socket: Socket | undefined;
/** The run loop has stopped listening: the socket's end is ours, not the pool's going away. */
let closing = false;

// An error thrown outside any task (in a timer, an unhandled rejection) ends the worker as it
// would end Node, but first tells the pool what it was, so the task that dies with it has a cause.
// It goes the way results go, after them.
process.on('uncaughtException', (error) => {
  process.stderr.write(`Uncaught ${inspect(error)}\n`);
  const message = [UNCAUGHT_MESSAGE, encodeThrown(error)];
  if (socket !== undefined && socket.writable) {
    const frame = encodeFrame(message);
    socket.write(Buffer.concat([frame.head, ...frame.blocks]), () => process.exit(UNCAUGHT_EXIT_CODE));
  } else if (process.connected) {
    sendIpc(message, () => process.exit(UNCAUGHT_EXIT_CODE));
  } else {
    process.exit(UNCAUGHT_EXIT_CODE);
  }
});

let handler: ((message: unknown) => void) | undefined;
const early: unknown[] = [];

const reader = new FrameReader(
  (message) => {
    if (handler !== undefined) {
      handler(message);
    } else if (Array.isArray(message) && message[0] === INIT_MESSAGE) {
      start(message[1] as WorkerInit);
    } else {
      early.push(message);
    }
  },
  // Each chunk a socket reads is memory of its own: messages are read where they arrived.
  { reused: false },
);

const server = createServer((connection) => {
  server.close(); // one pool, one connection; closing removes the path
  if (socket !== undefined) {
    connection.destroy();
    return;
  }
  socket = connection;
  connection.on('data', (chunk: Buffer) => reader.push(chunk));
  connection.on('error', () => undefined); // its 'close' follows
  connection.on('close', () => {
    if (!closing) process.exit(0);
  });
});
server.listen(socketPath, () => sendIpc([LISTENING_MESSAGE]));

function start(init: WorkerInit): void {
  const connection = socket as Socket;
  runWorker(
    {
      packsNumbers: true,
      post: (message) => {
        // After the pool has gone the process is on its way out; there is no one to answer.
        if (connection.destroyed) return true;
        return writeFrames(connection, [encodeFrame(message)]);
      },
      onMessage: (next) => {
        handler = next;
        for (const message of early.splice(0)) next(message);
      },
      close: () => {
        closing = true;
        connection.end();
        process.removeAllListeners('disconnect');
        process.disconnect();
      },
    },
    init,
  );
}
