/**
 * How a pool hears its jobs end: BullMQ's QueueEvents, read from a given event on, so that none
 * of the pool's events pass unseen however late the blocking read starts.
 *
 * An idle pool must not keep its program alive, and QueueEvents keeps a timer running while it
 * reads: once the pool has had no work for IDLE_MS, the feed closes, and the next work opens a new
 * one that reads on from the last event heard.
 */
import { QueueEvents } from 'bullmq';
import type { ConnectionLostError } from '@mpool/core';
import type { Redis } from 'ioredis';

/** How long the feed stays open once the pool has no work. */
const IDLE_MS = 1000;
/**
 * How long each blocking read of events waits (BullMQ's default: 10 s). BullMQ guards each read
 * with a timer of this plus a second, which a read cut off by a lost Redis leaves running even
 * after the feed is closed: it keeps the program alive that long. A read returns as soon as an
 * event comes, so a shorter wait costs only a round trip a second while the pool has work.
 */
const READ_BLOCK_MS = 1000;

/** How a job ended: its return value, or why it failed; `lost` when Redis was lost with it out. */
export type JobEnd = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string; readonly lost?: ConnectionLostError };

export class EventFeed {
  readonly #queue: string;
  readonly #client: Redis;
  readonly #onEnd: (jobId: string, end: JobEnd) => void;
  #events: QueueEvents | undefined;
  /** The id of the last event heard, or the stream's last when the pool started: where reading resumes. */
  #lastEventId: string | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #busy = false;
  #closed = false;

  /** BullMQ reads on a connection of its own, a copy of `client`. */
  constructor(queue: string, client: Redis, onEnd: (jobId: string, end: JobEnd) => void) {
    this.#queue = queue;
    this.#client = client;
    this.#onEnd = onEnd;
  }

  /** Starts reading after the event `lastEventId`. */
  start(lastEventId: string): void {
    this.#lastEventId = lastEventId;
    this.#open();
  }

  /** The pool has work: the feed is open. */
  busy(): void {
    this.#busy = true;
    clearTimeout(this.#idleTimer);
    this.#open();
  }

  /** The pool has no work: the feed closes unless work comes within IDLE_MS. */
  idle(): void {
    this.#busy = false;
    if (this.#events === undefined) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => void this.#close(), IDLE_MS);
    this.#idleTimer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    await this.#close();
  }

  #open(): void {
    if (this.#events !== undefined || this.#closed || this.#lastEventId === undefined) return;
    const events = new QueueEvents(this.#queue, { connection: this.#client, autorun: false, lastEventId: this.#lastEventId, blockingTimeout: READ_BLOCK_MS });
    events.on('error', () => undefined);
    events.on('completed', ({ jobId, returnvalue }, id) => {
      this.#lastEventId = id;
      this.#onEnd(jobId, { ok: true, value: returnvalue });
    });
    events.on('failed', ({ jobId, failedReason }, id) => {
      this.#lastEventId = id;
      this.#onEnd(jobId, { ok: false, reason: failedReason });
    });
    this.#events = events;
    events.run().catch(() => undefined);
    if (!this.#busy) this.idle();
  }

  async #close(): Promise<void> {
    const events = this.#events;
    this.#events = undefined;
    await events?.close().catch(() => undefined);
  }
}
