/**
 * One worker process as the pool sees it, from its start to its end:
 *
 *   Booting ──[LISTENING]──▶ Connecting ──connected──▶ Open ──child exits────▶ Draining ──socket read to its end──▶ Exited
 *      │                         │                       └──socket closes──▶ Leaving ──child exits──────────────▶ Exited
 *      │                         └── child exits ─▶ Draining; socket fails ─▶ Leaving
 *      └── child exits before it listened ───────────────────────────────────────────────────────────────────────▶ Exited
 *
 * Frames sent while Booting or Connecting wait, and are written once the socket connects. The exit
 * is reported (`WorkerEvents.exit`, once) on reaching Exited: the child gone and its socket read to
 * its end, so that no result is lost to a race with the exit. A socket that closes while its child
 * lives (Leaving) means a child that can never hear from the pool: unless the child ended it
 * itself, it is killed. Who the worker works for is apart from its state: a spare (forkserver)
 * waits, Open, until `attach` hands it a pool's init data and listeners.
 */
import { createConnection, type Socket } from 'node:net';
import { decodeThrown, WorkerGoneError, type WorkerEvents, type WorkerExitInfo, type WorkerHandle, type WorkerInit, type WorkerLastWord, type WireThrown } from '@mpool/core';
import type { ChildLink } from './child-link.js';
import { forget } from './children.js';
import { encodeFrame, FrameReader, holdBlocks, READ_BUFFER_BYTES, writeFrames, type Frame } from './frames.js';
import { readLastWord } from './last-word.js';
import { INIT_MESSAGE, LAST_WORD_MESSAGE, LISTENING_MESSAGE, UNCAUGHT_MESSAGE } from './messages.js';

/** How long `terminate()` waits after SIGTERM before it sends SIGKILL. */
export const TERMINATE_GRACE_MS = 500;

/**
 * After a child has exited, how long its socket may take to be read to its end before it is
 * closed anyway. The end comes at once when the child is gone; this only bounds the wait.
 */
const SOCKET_DRAIN_MS = 2_000;

/** Where a worker process is in its life; see the diagram above. */
export const enum WorkerState {
  /** Started; its socket does not listen yet. Frames wait. */
  Booting,
  /** Its socket listens and the pool is connecting. Frames wait. */
  Connecting,
  /** Connected: frames are written as they are sent. */
  Open,
  /** The child has exited; its socket is being read to its end. */
  Draining,
  /** Its socket has closed; the child is on its way out (killed, unless it closed the socket). */
  Leaving,
  /** Gone, and its exit reported (or waiting for `attach` to be reported). */
  Exited,
}

const STATE_NAMES = ['Booting', 'Connecting', 'Open', 'Draining', 'Leaving', 'Exited'] as const;

/** How a child exited: its exit code, or the signal that ended it. */
interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** The states each state may move to. */
const NEXT: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  [WorkerState.Booting]: [WorkerState.Connecting, WorkerState.Exited],
  [WorkerState.Connecting]: [WorkerState.Open, WorkerState.Draining, WorkerState.Leaving],
  [WorkerState.Open]: [WorkerState.Draining, WorkerState.Leaving],
  [WorkerState.Draining]: [WorkerState.Exited],
  [WorkerState.Leaving]: [WorkerState.Exited],
  [WorkerState.Exited]: [],
};

/** A child booted and waiting for its init message: a worker before it is given to a pool. */
export interface BootedChild {
  /** Whether the child has exited, is on its way out, or never started: no use as a worker. */
  readonly exited: boolean;
  /** Hands the child its init data and its listeners; it becomes a pool's worker. */
  attach(init: WorkerInit, events: WorkerEvents): WorkerHandle;
  /** Lets the waiting child keep the parent alive, or not (a spare must not). */
  setRef(on: boolean): void;
  /** Kills the child at once; resolves once it is gone, keeping the parent alive until then. */
  kill(): Promise<void>;
}

/** A worker process, from its launch on: a booted child until `attach`, then the pool's handle on it. */
export class ProcessWorker implements BootedChild, WorkerHandle {
  readonly #child: ChildLink;
  readonly #socketPath: string;
  #state = WorkerState.Booting;
  #events: WorkerEvents | undefined;
  /** How the child exited, once it has. */
  #exit: ChildExit | undefined;
  /** What the exit reports, once Exited. */
  #ended: WorkerExitInfo | undefined;
  /** The first thing that went wrong: the child's uncaught error, a failed send, a bad frame. */
  #failure: unknown;
  /** What the child said of its tasks on its way out (last-word.ts), if it could. */
  #lastWord: WorkerLastWord | undefined;
  #referenced = true;
  #socket: Socket | undefined;
  /** Frames sent while Booting or Connecting, written once the socket connects. */
  #queued: Frame[] = [];

  /** Takes over `child`, just started, whose socket will listen on `socketPath`. */
  constructor(child: ChildLink, socketPath: string) {
    this.#child = child;
    this.#socketPath = socketPath;
    child.onError((error) => {
      // Spawn failures and sends on a closed channel; the exit that follows tells the pool.
      this.#failure ??= error;
    });
    child.onMessage((message) => {
      if (Array.isArray(message) && message[0] === LISTENING_MESSAGE) {
        if (this.#state === WorkerState.Booting) this.#connect();
      } else {
        this.#onMessage(message);
      }
    });
    // 'close' comes after the IPC channel has been read to its end; the exit is reported once the
    // socket has been read to its end too.
    child.onClose((code, signal) => this.#onChildClosed(code, signal));
  }

  /** The process id (known a little later where another thread starts it). */
  get id(): number {
    return this.#child.pid ?? -1;
  }

  get exited(): boolean {
    // (A child whose socket is gone is on its way out: killed, or about to be.)
    return this.#state >= WorkerState.Draining || this.#childHasExited();
  }

  attach(init: WorkerInit, events: WorkerEvents): WorkerHandle {
    this.#events = events;
    if (this.#ended !== undefined) {
      // It died while waiting: report it now, as if it had died at once.
      const info = this.#ended;
      queueMicrotask(() => events.exit(info));
    } else if (this.#state <= WorkerState.Open) {
      try {
        this.send([INIT_MESSAGE, init]);
      } catch (error) {
        // The init data cannot be copied: a worker that cannot start, reported as its exit.
        this.#failure ??= error;
        this.#child.kill('SIGKILL');
      }
    }
    // (A child that has exited but whose socket is still being read reports when it is.)
    if (!this.#referenced) this.setRef(false);
    return this;
  }

  send(message: unknown[], transfer?: readonly unknown[]): void {
    // A child whose IPC channel has closed is leaving, or was told to by its task: it is sent
    // nothing more, and the pool ends it once it has answered what it has.
    if (this.#state > WorkerState.Open || this.#socket?.destroyed === true || !this.#child.connected) {
      throw new WorkerGoneError('the worker process has disconnected');
    }
    const frame = encodeFrame(message, transfer);
    if (this.#state !== WorkerState.Open) {
      // Written once the socket connects: its packed chunks are read until then.
      this.#queued.push(frame);
      holdBlocks(frame);
    } else {
      const socket = this.#socket as Socket;
      if (!writeFrames(socket, [frame])) holdBlocks(frame);
      // A write the socket refused at once (EPIPE: the child has exited) reached nobody: its jobs
      // go to another worker. Left to the socket's error, due on the next tick, the exit would be
      // reported with those jobs on this worker, its last word perhaps unread (the error destroys
      // the socket), and they would be blamed for its death.
      if (socket.errored !== null) throw new WorkerGoneError('the worker process has exited', { cause: socket.errored, buffersTaken: (transfer?.length ?? 0) > 0 });
    }
  }

  terminate(): Promise<void> {
    return terminateChild(this.#child);
  }

  ref(): void {
    this.setRef(true);
  }

  unref(): void {
    this.setRef(false);
  }

  setRef(on: boolean): void {
    this.#referenced = on;
    if (on) {
      this.#child.ref();
      this.#socket?.ref();
    } else {
      this.#child.unref();
      this.#socket?.unref();
    }
  }

  kill(): Promise<void> {
    if (this.#exit !== undefined || this.#childHasExited()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      // Once it is closed, not only exited: gone from the living, its sockets' directory with it.
      this.#child.onClose(() => resolve());
      this.#child.ref(); // whoever awaits this waits for the child to go
      this.#child.kill('SIGKILL');
    });
  }

  #childHasExited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  #enter(next: WorkerState): void {
    if (!NEXT[this.#state].includes(next)) {
      throw new Error(`mpool: a worker process cannot go from ${STATE_NAMES[this.#state]} to ${STATE_NAMES[next]}`);
    }
    this.#state = next;
    if (next !== WorkerState.Booting && next !== WorkerState.Connecting) this.#queued = [];
  }

  #onMessage(message: unknown): void {
    const kind: unknown = Array.isArray(message) ? message[0] : undefined;
    if (kind === UNCAUGHT_MESSAGE) this.#failure = decodeThrown((message as unknown[])[1] as WireThrown);
    else if (kind === LAST_WORD_MESSAGE) this.#lastWord = readLastWord(message as unknown[]);
    else this.#events?.message(message);
  }

  /** Connects to the child's socket, which now listens. */
  #connect(): void {
    this.#enter(WorkerState.Connecting);
    const reader = new FrameReader((message) => this.#onMessage(message), { reused: true });
    const connection = createConnection({
      path: this.#socketPath,
      onread: {
        buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES),
        callback: (bytes: number, buffer: Uint8Array) => {
          try {
            reader.push(buffer.subarray(0, bytes));
          } catch (error) {
            // A frame that does not decode: the channel can no longer be trusted.
            this.#failure ??= error;
            this.#child.kill('SIGKILL');
            connection.destroy();
          }
          return true; // go on reading
        },
      },
    });
    this.#socket = connection;
    connection.on('connect', () => {
      if (this.#state !== WorkerState.Connecting) return;
      const frames = this.#queued;
      this.#enter(WorkerState.Open);
      if (frames.length > 0) writeFrames(connection, frames);
    });
    // Errors end the socket (a child that died resets it): its 'close' follows, and the child's
    // exit says what happened.
    let lastError: unknown;
    let peerEnded = false;
    connection.on('error', (error) => {
      lastError = error;
    });
    connection.on('end', () => {
      peerEnded = true;
    });
    connection.on('close', () => this.#onSocketClosed(peerEnded, lastError));
    if (!this.#referenced) connection.unref();
  }

  #onSocketClosed(peerEnded: boolean, lastError: unknown): void {
    if (this.#state === WorkerState.Draining) {
      this.#finish();
      return;
    }
    this.#enter(WorkerState.Leaving);
    // A socket that failed while its child lives (it could not connect, say, because its path was
    // removed): the child can never hear from the pool, so it must not wait for it.
    if (!peerEnded) {
      this.#failure ??= new Error(`the worker process's socket closed${lastError instanceof Error ? `: ${lastError.message}` : ''}`, { cause: lastError });
      this.#child.kill('SIGKILL');
    }
  }

  #onChildClosed(code: number | null, signal: NodeJS.Signals | null): void {
    forget(this.#child);
    this.#exit = { code, signal };
    switch (this.#state) {
      case WorkerState.Booting:
      case WorkerState.Leaving:
        this.#finish();
        break;
      default:
        this.#enter(WorkerState.Draining);
        setTimeout(() => this.#socket?.destroy(), SOCKET_DRAIN_MS).unref();
        break;
    }
  }

  /** Exited: reports how, to whoever the worker works for (or to `attach`, later). */
  #finish(): void {
    this.#enter(WorkerState.Exited);
    this.#ended = { ...(this.#exit as ChildExit), error: this.#failure, lastWord: this.#lastWord };
    this.#events?.exit(this.#ended);
  }
}

/** SIGTERM, then SIGKILL after TERMINATE_GRACE_MS; resolves once the process is gone. */
function terminateChild(child: ChildLink): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), TERMINATE_GRACE_MS);
    timer.unref();
    child.onExit(() => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
