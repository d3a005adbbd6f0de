/**
 * Where a worker's results wait to go back to the pool, several to a RESULTS message, with the
 * time the worker was busy on them (the pool's estimate of a task's duration comes from it).
 *
 *   empty ──push()──▶ holding ──flush()──▶ empty        (a timer, when armed, flushes it too)
 *
 * The run loop flushes it at the end of each message the pool sent (the pool sizes its messages
 * for that) and, inside a long message, every FLUSH_INTERVAL_MS, so that results of quick tasks
 * travel together without a slow one holding the earlier ones back.
 */
import { performance } from 'node:perf_hooks';
import type { WorkerPayloadCodec } from '../codec.js';
import { safeMessage } from '../error-codec.js';
import type { WorkerChannel } from '../executor.js';
import { MessageKind, ResultStatus } from '../wire.js';

/** A result waits at most this long for companions before it is sent. */
const FLUSH_INTERVAL_MS = 2;

/** The elements of a RESULTS message before its results. */
const HEAD = 2;

export class Outbox {
  readonly #channel: WorkerChannel;
  readonly #codec: WorkerPayloadCodec;
  #batch: unknown[] = [MessageKind.Results, 0];
  #busyMs = 0;
  #lastFlush = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(channel: WorkerChannel, codec: WorkerPayloadCodec) {
    this.#channel = channel;
    this.#codec = codec;
  }

  /** A task's result: `value` as the codec wrote it, for `status`. */
  push(status: ResultStatus, value: unknown): void {
    this.#batch.push(status, value);
  }

  /** A task ran from `started` to `now` (`performance.now()`); the outbox goes when it is due. */
  ran(started: number, now: number): void {
    this.#busyMs += now - started;
    if (now - this.#lastFlush >= FLUSH_INTERVAL_MS) this.flush();
  }

  /** The run loop is about to wait on a task: what it holds goes within FLUSH_INTERVAL_MS. */
  flushSoon(): void {
    if (this.#batch.length > HEAD && this.#timer === undefined) this.#timer = setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
  }

  /** Sends what it holds, if anything. */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#lastFlush = performance.now();
    if (this.#batch.length === HEAD) return;
    const batch = this.#batch;
    batch[1] = this.#busyMs;
    this.#batch = [MessageKind.Results, 0];
    this.#busyMs = 0;
    try {
      this.#codec.post(this.#channel, batch);
    } catch {
      this.#postOneByOne(batch);
    }
  }

  /** A batch failed to copy: send its results one by one, replacing the ones that cannot go. */
  #postOneByOne(batch: unknown[]): void {
    for (let i = HEAD; i < batch.length; i += 2) {
      try {
        this.#codec.post(this.#channel, [MessageKind.Results, 0, batch[i], batch[i + 1]]);
      } catch (error) {
        // What failed may be a result's own getter, and what it threw anything at all.
        const reason = safeMessage(error);
        this.#codec.post(this.#channel, [MessageKind.Results, 0, ResultStatus.Uncloneable, reason]);
      }
    }
  }
}
