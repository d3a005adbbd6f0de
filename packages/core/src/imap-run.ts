/**
 * `imap` and `imapUnordered`: an async iterator that pulls its input lazily, a chunk at a time,
 * keeping at most `window` chunks submitted but not yet consumed, so that an endless input works
 * and memory stays flat however long the input is.
 *
 *   input ──pull()──▶ chunk jobs ──▶ scheduler ──▶ jobSucceeded/jobFailed ──▶ slots ──▶ next()
 *
 * An error thrown by the input takes the place of the chunk it would have started: the results
 * before it come first. A task error ends the iteration at its item, after the items before it
 * in its chunk. Leaving the loop (`return()`) stops the pulling and withdraws the queued chunks.
 */
import { abortError, onAbort } from './call-options.js';
import { Job, type JobLimits, type JobOwner } from './job.js';
import type { ChunkValues } from './codec.js';
import type { Scheduler } from './scheduler/index.js';
import type { FnEntry } from './task.js';
import type { RunMode } from './wire.js';

/** At least this many items may be submitted ahead of the consumer, to keep every worker busy. */
const WINDOW_ITEMS = 1024;
/** …and at least this many chunks per worker, whatever the chunk size. */
const WINDOW_CHUNKS_PER_WORKER = 4;

/**
 * What one chunk came to: its results (an array, or a Float64Array of the numbers that came as
 * numbers: see ChunkValues), and the error that stopped it, if any.
 */
interface Outcome {
  readonly values: ArrayLike<unknown>;
  readonly failed: boolean;
  readonly error: unknown;
}

export interface ImapRunOptions extends JobLimits {
  readonly ordered: boolean;
  readonly chunksize: number;
  readonly workers: number;
}

export class ImapRun<T> implements JobOwner<number>, AsyncIterableIterator<T> {
  readonly #scheduler: Scheduler;
  readonly #fn: FnEntry;
  readonly #mode: RunMode;
  readonly #ordered: boolean;
  readonly #chunksize: number;
  readonly #window: number;
  #source: Iterator<unknown> | AsyncIterator<unknown> | undefined;
  readonly #sourceIsAsync: boolean;

  /** Chunk jobs submitted and not yet consumed, by chunk number. */
  readonly #jobs = new Map<number, Job<number>>();
  /** Outcomes waiting to be consumed: by chunk number (ordered), or in arrival order. */
  readonly #outcomes = new Map<number, Outcome>();
  readonly #arrived: Outcome[] = [];
  #submitted = 0;
  #consumed = 0;
  #current: Outcome | undefined;
  #currentIndex = 0;
  #pulling = false;
  #exhausted = false;
  /** The input's own error, and the chunk number it stands at. */
  #inputError: { error: unknown; at: number } | undefined;
  #finished = false;
  /** Each chunk's time limit and signal. */
  readonly #limits: JobLimits;
  /** The AbortError to throw at the next `next()`, once the signal has fired. */
  #aborted: unknown;
  #stopListening: (() => void) | undefined;
  /** Pending `next()` calls waiting for something to happen. */
  #waiting: (() => void)[] = [];

  constructor(scheduler: Scheduler, fn: FnEntry, mode: RunMode, input: Iterable<unknown> | AsyncIterable<unknown>, options: ImapRunOptions) {
    this.#scheduler = scheduler;
    this.#fn = fn;
    this.#mode = mode;
    this.#ordered = options.ordered;
    this.#chunksize = options.chunksize;
    this.#window = Math.max(options.workers * WINDOW_CHUNKS_PER_WORKER, Math.ceil(WINDOW_ITEMS / options.chunksize));
    this.#limits = options;
    const signal = options.signal;
    if (signal?.aborted === true) this.#aborted = abortError(signal);
    else if (signal !== undefined) {
      this.#stopListening = onAbort(signal, () => {
        if (this.#finished) return;
        this.#aborted = abortError(signal);
        for (const job of this.#jobs.values()) scheduler.cancel(job);
        this.#jobs.clear();
        this.#notify();
      });
    }
    const asyncFactory = (input as AsyncIterable<unknown>)[Symbol.asyncIterator];
    this.#sourceIsAsync = typeof asyncFactory === 'function';
    this.#source = this.#sourceIsAsync ? (input as AsyncIterable<unknown>)[Symbol.asyncIterator]() : (input as Iterable<unknown>)[Symbol.iterator]();
    this.#pull();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.#finished) return { done: true, value: undefined };
      if (this.#aborted !== undefined) {
        this.#finish();
        throw this.#aborted;
      }
      const current = this.#current;
      if (current !== undefined) {
        if (this.#currentIndex < current.values.length) {
          return { done: false, value: current.values[this.#currentIndex++] as T };
        }
        this.#current = undefined;
        if (current.failed) {
          this.#finish();
          throw current.error;
        }
        continue;
      }
      const outcome = this.#takeOutcome();
      if (outcome !== undefined) {
        this.#consumed++;
        this.#current = outcome;
        this.#currentIndex = 0;
        this.#pull();
        continue;
      }
      if (this.#inputError !== undefined && this.#consumed === this.#inputError.at) {
        const { error } = this.#inputError;
        this.#finish();
        throw error;
      }
      if (this.#exhausted && this.#consumed === this.#submitted) {
        this.#finish();
        return { done: true, value: undefined };
      }
      await new Promise<void>((resolve) => {
        this.#waiting.push(resolve);
      });
    }
  }

  /** Leaving the loop early: stop pulling, withdraw what has not run, close the input. */
  async return(): Promise<IteratorResult<T>> {
    this.#finish();
    return { done: true, value: undefined };
  }

  jobSucceeded(job: Job<number>, value: unknown): void {
    // Numbers (see ChunkValues) may be read from memory that the next chunk reuses: keep a copy.
    const chunk = value as ChunkValues;
    const values = Array.isArray(chunk) ? chunk : chunk.slice();
    this.#arrive(job, { values, failed: false, error: undefined });
  }

  jobFailed(job: Job<number>, error: unknown, before: readonly unknown[] | undefined): void {
    this.#arrive(job, { values: before ?? [], failed: true, error });
  }

  #arrive(job: Job<number>, outcome: Outcome): void {
    const index = job.mark;
    if (this.#finished || !this.#jobs.delete(index)) return;
    if (this.#ordered) this.#outcomes.set(index, outcome);
    else this.#arrived.push(outcome);
    this.#notify();
  }

  #takeOutcome(): Outcome | undefined {
    if (!this.#ordered) return this.#arrived.shift();
    const outcome = this.#outcomes.get(this.#consumed);
    if (outcome !== undefined) this.#outcomes.delete(this.#consumed);
    return outcome;
  }

  #notify(): void {
    const waiting = this.#waiting;
    if (waiting.length === 0) return;
    this.#waiting = [];
    for (const wake of waiting) wake();
  }

  #submit(items: unknown[]): void {
    const index = this.#submitted++;
    const job = new Job(this.#fn, this.#mode, items, items.length, this, index, this.#limits);
    this.#jobs.set(index, job);
    this.#scheduler.submit(job);
  }

  /** Pulls input while the window has room; at most one pull loop runs at a time. */
  #pull(): void {
    if (this.#pulling || this.#exhausted || this.#finished || this.#aborted !== undefined) return;
    this.#pulling = true;
    void this.#pullLoop();
  }

  async #pullLoop(): Promise<void> {
    let items: unknown[] = [];
    try {
      while (!this.#exhausted && !this.#finished && this.#aborted === undefined && this.#submitted - this.#consumed < this.#window) {
        const source = this.#source as Iterator<unknown> | AsyncIterator<unknown>;
        const step = this.#sourceIsAsync ? await source.next() : (source.next() as IteratorResult<unknown>);
        if (this.#finished) return;
        if (step.done === true) {
          this.#exhausted = true;
          this.#source = undefined;
          break;
        }
        items.push(step.value);
        if (items.length === this.#chunksize) {
          this.#submit(items);
          items = [];
        }
      }
      if (items.length > 0) this.#submit(items);
    } catch (error) {
      if (this.#finished) return;
      if (items.length > 0) this.#submit(items);
      this.#exhausted = true;
      this.#source = undefined;
      this.#inputError = { error, at: this.#submitted };
    } finally {
      this.#pulling = false;
      this.#notify();
    }
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#stopListening?.();
    for (const job of this.#jobs.values()) this.#scheduler.cancel(job);
    this.#jobs.clear();
    this.#outcomes.clear();
    this.#arrived.length = 0;
    this.#current = undefined;
    const source = this.#source;
    this.#source = undefined;
    this.#exhausted = true;
    if (source?.return !== undefined) {
      try {
        const closing = source.return();
        if (closing instanceof Promise) closing.catch(() => undefined);
      } catch {
        // The input's own clean-up failed; the iteration is over either way.
      }
    }
    this.#notify();
  }
}
