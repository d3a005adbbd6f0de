/** `mapAsync` and `starmapAsync`: chunks in flight, results assembled in input order, progress told. */
import { AsyncResult, fulfil, reject } from './async-result.js';
import { abortError, onAbort, reportLater, type CallSettings } from './call-options.js';
import { Job, type JobOwner } from './job.js';
import type { ChunkValues, MapInput } from './codec.js';
import { numbersToArray } from './numbers.js';
import type { Scheduler } from './scheduler/index.js';
import type { FnEntry } from './task.js';
import type { RunMode } from './wire.js';

/**
 * Python's default chunk size: the input split into about four chunks per worker, so that an
 * uneven chunk near the end does not leave the other workers idle for long.
 */
export function defaultChunksize(length: number, workers: number): number {
  if (length === 0) return 1;
  return Math.ceil(length / (workers * 4));
}

/** The most arrays one `concat` call is given: far below any engine's limit on arguments. */
const CONCAT_GROUP = 4096;

/**
 * The chunks' results as one array. `concat` copies packed arrays wholesale, and its result is
 * packed too: unlike an array allocated at full length and filled in, it travels on to another
 * worker as a dense array, not key by key.
 */
export function joinParts<T>(parts: T[][]): T[] {
  if (parts.length === 1) return parts[0]!;
  if (parts.length <= CONCAT_GROUP) return ([] as T[]).concat(...parts);
  const groups: T[][] = [];
  for (let i = 0; i < parts.length; i += CONCAT_GROUP) groups.push(([] as T[]).concat(...parts.slice(i, i + CONCAT_GROUP)));
  return joinParts(groups);
}

/** A block of doubles, whole copies of which make a packed array of numbers in one go. */
const NUMBER_BLOCK_LENGTH = 4096;
let numberBlock: number[] | undefined;

/**
 * A packed array of `length` zeros held as unboxed doubles, built with one `concat` (so one
 * allocation) rather than grown by push: numbers copied into it stay unboxed, and it stays
 * packed. A map's results of numbers are written straight into one.
 */
export function numberArray(length: number): number[] {
  if (numberBlock === undefined) {
    // 0.5 makes the block's elements doubles; zeros written over it keep them so.
    numberBlock = [];
    for (let i = 0; i < NUMBER_BLOCK_LENGTH; i++) numberBlock.push(0.5);
    numberBlock.fill(0);
  }
  if (length <= NUMBER_BLOCK_LENGTH) return numberBlock.slice(0, length);
  const blocks: number[][] = [];
  for (let filled = 0; filled < length; filled += NUMBER_BLOCK_LENGTH) blocks.push(numberBlock);
  const out = joinParts(blocks);
  out.length = length;
  return out;
}

/**
 * A result this long is an array V8 places on pages of its own, fresh memory each time, faulted
 * in page by page (benchmarks/README.md, "Measurements behind the code"): a map expected to
 * return numbers makes it while its chunks are out, rather than when the first comes back.
 */
const EARLY_RESULT_LENGTH = 16_384;

/**
 * A map's `onProgress` is called at most this often: often enough to move a progress bar
 * smoothly, rarely enough that a map of thousands of tiny chunks does not spend its time on it.
 */
const PROGRESS_INTERVAL_MS = 10;

/** One `map`/`starmap`: chunks in flight, results assembled in input order. */
export class MapRun<R> implements JobOwner<number> {
  readonly #scheduler: Scheduler;
  readonly #result: AsyncResult<R[]>;
  readonly #jobs: Job<number>[] = [];
  /** Each chunk's results, by chunk index, joined into one array when the last arrives. */
  #parts: R[][] = [];
  /**
   * The whole result, made before any chunk is back when the function's last map returned
   * numbers, or when the first chunk to come back is numbers (see ChunkValues): every chunk is
   * then copied straight in, with no array per chunk and no join.
   */
  #out: unknown[] | undefined;
  /** The input as the codec made it ready: its chunks' payloads, told when all are done. */
  #input: MapInput | undefined;
  /** Every chunk so far came back as numbers. */
  #allNumbers = true;
  readonly #length: number;
  readonly #chunksize: number;
  #left = 0;
  #settled = false;
  #stopListening: (() => void) | undefined;
  readonly #onProgress: ((done: number, total: number) => void) | undefined;
  /** Items done so far, and when onProgress was last called; counted only when there is one. */
  #done = 0;
  #progressAt = -Infinity;

  constructor(scheduler: Scheduler, result: AsyncResult<R[]>, fn: FnEntry, mode: RunMode.Map | RunMode.Starmap, items: unknown[], chunksize: number, settings: Pick<CallSettings, 'timeoutMs' | 'signal' | 'onProgress'>) {
    this.#scheduler = scheduler;
    this.#result = result;
    this.#length = items.length;
    this.#chunksize = chunksize;
    this.#onProgress = settings.onProgress;
    if (items.length === 0) {
      this.#settled = true;
      this.#progress(0);
      fulfil(result, []);
      return;
    }
    const { signal } = settings;
    const input = scheduler.codec.splitMap(fn.id, mode, items, chunksize);
    this.#input = input;
    for (let offset = 0; offset < items.length; offset += chunksize) {
      this.#jobs.push(new Job(fn, mode, input.chunk(offset, offset + chunksize), Math.min(chunksize, items.length - offset), this, this.#jobs.length, settings));
    }
    this.#left = this.#jobs.length;
    if (signal !== undefined) {
      this.#stopListening = onAbort(signal, () => {
        if (this.#settled) return;
        this.#settle();
        for (const job of this.#jobs) scheduler.cancel(job);
        reject(this.#result, abortError(signal));
      });
    }
    for (const job of this.#jobs) scheduler.submit(job);
    if (input.expectsNumbers && items.length >= EARLY_RESULT_LENGTH) {
      // A microtask queued after the scheduler's dispatch: the chunks are out by then.
      queueMicrotask(() => {
        if (!this.#settled && this.#out === undefined && this.#left === this.#jobs.length) this.#out = numberArray(this.#length);
      });
    }
  }

  #settle(): void {
    this.#settled = true;
    this.#parts = [];
    this.#out = undefined;
    this.#input = undefined;
    this.#stopListening?.();
  }

  /** `value` is the chunk's results (ChunkValues): an array, or numbers to read now. */
  jobSucceeded(job: Job<number>, value: unknown): void {
    if (this.#settled) return;
    const index = job.mark;
    const values = value as ChunkValues;
    const numbers = !Array.isArray(values);
    this.#allNumbers &&= numbers;
    if (this.#out === undefined && this.#left === this.#jobs.length && numbers) this.#out = numberArray(this.#length);
    if (this.#out !== undefined) {
      const out = this.#out;
      const offset = index * this.#chunksize;
      for (let i = 0; i < values.length; i++) out[offset + i] = values[i];
    } else {
      this.#parts[index] = (numbers ? numbersToArray(values as Float64Array) : values) as R[];
    }
    if (--this.#left === 0) {
      // Every chunk is done: none will be sent again, and the codec may reuse the input's memory.
      this.#input?.done(this.#allNumbers);
      const results = (this.#out ?? joinParts(this.#parts)) as R[];
      this.#settle();
      this.#progress(this.#length);
      fulfil(this.#result, results);
    } else if (this.#onProgress !== undefined) {
      this.#done += job.weight;
      const now = performance.now();
      if (now - this.#progressAt >= PROGRESS_INTERVAL_MS) {
        this.#progressAt = now;
        this.#progress(this.#done);
      }
    }
  }

  /** Tells `onProgress`, if there is one, that `done` items of the map's are done. */
  #progress(done: number): void {
    if (this.#onProgress === undefined) return;
    try {
      this.#onProgress(done, this.#length);
    } catch (error) {
      reportLater(error);
    }
  }

  jobFailed(_job: Job<number>, error: unknown): void {
    if (this.#settled) return;
    this.#settle();
    // Like Python, the first failure settles the map; unlike Python, the chunks still queued
    // are withdrawn rather than run for nothing.
    for (const job of this.#jobs) this.#scheduler.cancel(job);
    reject(this.#result, error);
  }
}
