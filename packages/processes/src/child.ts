/**
 * The entry of every process worker. It listens on the socket path it is given, tells the pool
 * over the IPC channel, and takes the pool's one connection; the first message on it is
 * `[INIT, WorkerInit]`, then the shared run loop takes the socket over. A spare process
 * (forkserver) boots and waits here, connected, until the pool needs it.
 */
import { createServer, Socket } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import { encodeThrown, PackedNumbersWorkerCodec, runWorker } from '@mpool/core/worker';
import type { WorkerInit } from '@mpool/core';
import { encodeFrame, FrameReader, holdBlocks, READ_BUFFER_BYTES, writeFrames } from './frames.js';
import { LastWord } from './last-word.js';
import { leaveSocketDir } from './lifeline.js';
import { INIT_MESSAGE, LISTENING_MESSAGE, UNCAUGHT_MESSAGE } from './messages.js';

const socketPath = process.argv[2];
if (process.send === undefined || socketPath === undefined) throw new Error('mpool process worker: started without an IPC channel or a socket path');
const sendIpc = process.send.bind(process);

// Before the pool has connected, the channel's end means that the pool went away (its process
// died or dropped us): nothing to work for. Once it has, the socket's end says that (and the
// watchdog, when a task keeps this thread busy); a channel closed while the socket is open was
// closed by a task, and the pool, which hears it too, sends nothing more and ends this worker
// once it has answered what it was sent, none of which is dropped.
process.on('disconnect', () => {
  if (socket !== undefined && !socket.destroyed) return;
  leaveSocketDir(socketPath);
  process.exit(0);
});

/** Starts the watchdog thread (watchdog.ts), which ends this process once the pool's is gone. */
function startWatchdog(): void {
  if (process.platform === 'win32') return; // no lifeline there: a pipe's handle, not an fd
  try {
    const watchdog = new Worker(join(__dirname, 'watchdog.js'), {
      workerData: socketPath,
      // No copy of the environment, nor of fds to track: it reads none of them. (No heap limits:
      // below V8's usual they save half a MiB and risk the thread running out at start-up.)
      env: SHARE_ENV,
      trackUnmanagedFds: false,
    });
    watchdog.unref(); // it never keeps the worker alive
    watchdog.on('error', (error) => process.emitWarning(`mpool: a worker process's watchdog failed; the worker goes on without it (${inspect(error)})`));
  } catch (error) {
    process.emitWarning(`mpool: a worker process's watchdog could not start; the worker goes on without it (${inspect(error)})`);
  }
}

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

// However it ends but by a signal or an abort, the worker tells the pool how far it got, so that
// the tasks it never started run elsewhere, unblamed. (Once the run loop has closed the socket,
// the pool expects the exit, and there is nothing to tell.)
const lastWord = new LastWord();
process.on('exit', () => {
  if (socket !== undefined && !closing) lastWord.tell(socket);
});

let handler: ((message: unknown) => void) | undefined;
const early: unknown[] = [];
/** The socket reads into one buffer of its own (see ownReads), so its messages' packed chunks are views of it. */
let reusedReads = false;
/** Reads the pool's messages off the socket, once there is one (ownReads). */
let reader: FrameReader | undefined;

const deliver = (message: unknown): void => {
  if (handler !== undefined) {
    handler(message);
  } else if (Array.isArray(message) && message[0] === INIT_MESSAGE) {
    start(message[1] as WorkerInit);
  } else {
    // Kept until the run loop starts: its own memory, whatever the socket reads into.
    early.push(reusedReads ? structuredClone(message) : message);
  }
};

/**
 * The pool's connection, made to read into one buffer that it reuses, as the pool's side does.
 * A socket that a server accepts cannot be given one (`onread` is an option of sockets that
 * connect), so its handle moves to a socket made with one. Where that cannot be done, the
 * connection is kept as it is, each read in memory of its own. A read buffer made afresh for
 * every read is memory the worker takes from the system page by page, and gives back only when
 * V8 next collects, which a worker that allocates little does seldom.
 */
function ownReads(accepted: Socket): Socket {
  const withHandle = accepted as unknown as { _handle?: unknown };
  const handle = withHandle._handle;
  if (typeof handle === 'object' && handle !== null) {
    try {
      const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      const own = new Socket({
        handle,
        readable: true,
        writable: true,
        onread: {
          buffer,
          callback: (bytes: number, into: Uint8Array) => {
            reader!.push(into.subarray(0, bytes));
            return true;
          },
        },
      } as ConstructorParameters<typeof Socket>[0]);
      withHandle._handle = null;
      reader = new FrameReader(deliver, { reused: true });
      reusedReads = true;
      return own;
    } catch {
      // as it is, below
    }
  }
  reader = new FrameReader(deliver, { reused: false });
  accepted.on('data', (chunk: Buffer) => reader!.push(chunk));
  accepted.resume();
  return accepted;
}

const server = createServer({ pauseOnConnect: true }, (accepted) => {
  server.close(); // one pool, one connection; closing removes the path
  if (socket !== undefined) {
    accepted.destroy();
    return;
  }
  const connection = ownReads(accepted);
  socket = connection;
  connection.on('error', () => undefined); // its 'close' follows
  connection.on('close', () => {
    if (closing) return;
    leaveSocketDir(socketPath); // the pool went away: its process cannot clean up
    process.exit(0);
  });
});
server.listen(socketPath, () => sendIpc([LISTENING_MESSAGE]));

function start(init: WorkerInit): void {
  const connection = socket as Socket;
  // The watchdog thread costs a few ms of this thread and some 30 ms of a core to start: it starts
  // once the pool has heard that this worker is ready, beside its first task instead of before
  // it; before then the worker runs only its own start-up, which ends by itself, and hears the
  // pool go on its IPC channel. An initializer is the user's code and may not end: it gets the
  // watchdog first.
  let watched = false;
  const watch = (): void => {
    if (watched) return;
    watched = true;
    startWatchdog();
  };
  if (init.initializer !== undefined) watch();
  runWorker(
    {
      codec: new PackedNumbersWorkerCodec({ lendsPayloads: reusedReads }),
      progress: lastWord,
      post: (message) => {
        // After the pool has gone the process is on its way out; there is no one to answer.
        if (connection.destroyed) return;
        const frame = encodeFrame(message);
        if (!writeFrames(connection, [frame])) holdBlocks(frame);
        watch(); // after the first message, READY
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
