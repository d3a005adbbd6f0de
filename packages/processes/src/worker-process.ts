/**
 * A process worker once it has loaded what it runs (child.ts starts it): it takes the pool's one
 * connection; the first message on it is `[INIT, WorkerInit]`, then the shared run loop takes the
 * socket over:
 *
 *   Listening ──pool connects──▶ Connected ──[INIT]──▶ Running ──run loop closes──▶ Closing
 *
 * A spare process (forkserver) waits here, Connected, until the pool needs it. Until the run loop
 * closes the connection, its end means that the pool went away, and so does the IPC channel's
 * before the pool has connected: this process exits.
 */
import { Socket, type Server } from 'node:net';
import { inspect } from 'node:util';
import { encodeThrown, PackedNumbersWorkerCodec, runWorker } from '@mpool/core/worker';
import type { WorkerInit } from '@mpool/core';
import { encodeFrame, frameBytes, FrameReader, holdBlocks, READ_BUFFER_BYTES, writeFrames } from './frames.js';
import { INIT_MESSAGE, UNCAUGHT_MESSAGE } from './messages.js';
import { LastWord } from './last-word.js';
import { leaveSocketDir } from './socket-dir.js';

/** Node's exit code for an uncaught exception. */
const UNCAUGHT_EXIT_CODE = 1;

/** Where the worker is with its pool; see the diagram above. */
const enum ChildState {
  Listening,
  Connected,
  Running,
  Closing,
}

/** How this process sends on its IPC channel. */
export type SendIpc = NonNullable<typeof process.send>;

/** The worker's side of its pool's connection, and what it does when that goes. */
export class WorkerProcess {
  readonly #socketPath: string;
  readonly #sendIpc: SendIpc;
  #state = ChildState.Listening;
  #socket: Socket | undefined;
  /** Reads the pool's messages off the socket, once there is one (#ownReads). */
  #reader: FrameReader | undefined;
  /** The socket reads into one buffer of its own (#ownReads), so its messages' packed chunks are views of it. */
  #reusedReads = false;
  /** The run loop's handler, once it listens. */
  #handler: ((message: unknown) => void) | undefined;
  /** Messages that came before the run loop listened. */
  readonly #early: unknown[] = [];
  /** How far the run loop has got, for the pool to read if this process ends (last-word.ts). */
  readonly #lastWord = new LastWord();

  /** Takes the pool's connection to `server`, which listens on `socketPath` (paused on connect). */
  constructor(server: Server, socketPath: string, sendIpc: SendIpc) {
    this.#socketPath = socketPath;
    this.#sendIpc = sendIpc;
    server.on('connection', (accepted: Socket) => {
      server.close(); // one pool, one connection; closing removes the path
      if (this.#state !== ChildState.Listening) {
        accepted.destroy();
        return;
      }
      this.#accept(accepted);
    });
    server.on('error', (error) => this.#listenFailed(error));
  }

  /**
   * The IPC channel closed. Before the pool has connected, that means that the pool went away
   * (its process died or dropped us): nothing to work for. Once it has, the socket's end says
   * that (and the pool's reaper, when a task keeps this thread busy); a channel closed while the
   * socket is open was closed by a task, and the pool, which hears it too, sends nothing more and
   * ends this worker once it has answered what it was sent, none of which is dropped.
   */
  onDisconnect(): void {
    if (this.#socket !== undefined && !this.#socket.destroyed) return;
    leaveSocketDir(this.#socketPath);
    process.exit(0);
  }

  /**
   * The process is exiting, however but by a signal or an abort: it tells the pool how far it
   * got, so that the tasks it never started run elsewhere, unblamed. (Once the run loop has closed
   * the socket, the pool expects the exit, and there is nothing to tell.)
   */
  onExit(): void {
    if (this.#state === ChildState.Running && this.#socket !== undefined) this.#lastWord.tell(this.#socket);
  }

  /**
   * An error thrown outside any task (in a timer, an unhandled rejection) ends the worker as it
   * would end Node, but first tells the pool what it was, so the task that dies with it has a
   * cause. It goes the way results go, after them.
   */
  onUncaught(error: unknown): void {
    process.stderr.write(`Uncaught ${inspect(error)}\n`);
    const message = [UNCAUGHT_MESSAGE, encodeThrown(error)];
    const socket = this.#socket;
    if (socket !== undefined && socket.writable) {
      socket.write(frameBytes(encodeFrame(message)), () => process.exit(UNCAUGHT_EXIT_CODE));
    } else if (process.connected) {
      this.#sendIpc(message, () => process.exit(UNCAUGHT_EXIT_CODE));
    } else {
      process.exit(UNCAUGHT_EXIT_CODE);
    }
  }

  /**
   * The socket could not listen: its directory is gone (removed by a sibling worker whose pool
   * died while they booted, or by a cleaner of the temporary folder) or cannot be written. A pool
   * that is there hears why on the IPC channel, as of an uncaught error, and this process exits;
   * to a pool that is gone the send fails, and this process exits without a word.
   */
  #listenFailed(error: unknown): void {
    if (this.#state !== ChildState.Listening) return;
    this.#state = ChildState.Closing;
    leaveSocketDir(this.#socketPath);
    this.#sendIpc([UNCAUGHT_MESSAGE, encodeThrown(error)], (failed: Error | null) => process.exit(failed ? 0 : UNCAUGHT_EXIT_CODE));
  }

  #accept(accepted: Socket): void {
    this.#state = ChildState.Connected;
    const connection = this.#ownReads(accepted);
    this.#socket = connection;
    connection.on('error', () => undefined); // its 'close' follows
    connection.on('close', () => {
      if (this.#state === ChildState.Closing) return;
      leaveSocketDir(this.#socketPath); // the pool went away: its process cannot clean up
      process.exit(0);
    });
  }

  /**
   * The pool's connection, made to read into one buffer that it reuses, as the pool's side does.
   * A socket that a server accepts cannot be given one (`onread` is an option of sockets that
   * connect), so its handle moves to a socket made with one. Where that cannot be done, the
   * connection is kept as it is, each read in memory of its own. A read buffer made afresh for
   * every read is memory the worker takes from the system page by page, and gives back only when
   * V8 next collects, which a worker that allocates little does seldom.
   */
  #ownReads(accepted: Socket): Socket {
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
              this.#reader!.push(into.subarray(0, bytes));
              return true;
            },
          },
        } as ConstructorParameters<typeof Socket>[0]);
        withHandle._handle = null;
        this.#reader = new FrameReader((message) => this.#deliver(message), { reused: true });
        this.#reusedReads = true;
        return own;
      } catch {
        // as it is, below
      }
    }
    this.#reader = new FrameReader((message) => this.#deliver(message), { reused: false });
    accepted.on('data', (chunk: Buffer) => this.#reader!.push(chunk));
    accepted.resume();
    return accepted;
  }

  #deliver(message: unknown): void {
    if (this.#handler !== undefined) {
      this.#handler(message);
    } else if (this.#state === ChildState.Connected && Array.isArray(message) && message[0] === INIT_MESSAGE) {
      this.#run(message[1] as WorkerInit);
    } else {
      // Kept until the run loop starts: its own memory, whatever the socket reads into.
      this.#early.push(this.#reusedReads ? structuredClone(message) : message);
    }
  }

  #run(init: WorkerInit): void {
    this.#state = ChildState.Running;
    const connection = this.#socket as Socket;
    runWorker(
      {
        codec: new PackedNumbersWorkerCodec({ lendsPayloads: this.#reusedReads }),
        progress: this.#lastWord,
        post: (message, transfer) => {
          // After the pool has gone the process is on its way out; there is no one to answer.
          if (connection.destroyed) return;
          const frame = encodeFrame(message, transfer);
          if (!writeFrames(connection, [frame])) holdBlocks(frame);
        },
        onMessage: (next) => {
          this.#handler = next;
          for (const message of this.#early.splice(0)) next(message);
        },
        close: () => {
          this.#state = ChildState.Closing;
          connection.end();
          process.removeAllListeners('disconnect');
          process.disconnect();
        },
      },
      init,
    );
  }
}
