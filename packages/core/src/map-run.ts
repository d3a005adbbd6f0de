/** `mapAsync` and `starmapAsync`: chunks in flight, results assembled in input order. */
import { AsyncResult, fulfil, reject } from './async-result.js';
import { abortError, onAbort, type CallSettings } from './call-options.js';
import { Job, type JobOwner } from './job.js';
import type { Scheduler } from './scheduler.js';
import type { FnEntry } from './task.js';
import { RunMode } from './wire.js';

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

/** One `map`/`starmap`: chunks in flight, results assembled in input order. */
export class MapRun<R> implements JobOwner {
  readonly #scheduler: Scheduler;
  readonly #result: AsyncResult<R[]>;
  readonly #jobs: Job[] = [];
  /** Each chunk's results, by chunk index, joined into one array when the last arrives. */
  #parts: R[][] = [];
  #left = 0;
  #settled = false;
  #stopListening: (() => void) | undefined;

  constructor(scheduler: Scheduler, result: AsyncResult<R[]>, fn: FnEntry, mode: RunMode.Map | RunMode.Starmap, items: unknown[], chunksize: number, settings: Pick<CallSettings, 'timeoutMs' | 'signal'>) {
    this.#scheduler = scheduler;
    this.#result = result;
    if (items.length === 0) {
      this.#settled = true;
      fulfil(result, []);
      return;
    }
    const { signal, timeoutMs } = settings;
    for (let offset = 0; offset < items.length; offset += chunksize) {
      const chunk = items.slice(offset, offset + chunksize);
      const job = new Job(fn, mode, chunk, chunk.length, this, this.#jobs.length);
      job.timeoutMs = timeoutMs;
      job.alone = timeoutMs !== Infinity || signal !== undefined;
      this.#jobs.push(job);
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
  }

  #settle(): void {
    this.#settled = true;
    this.#parts = [];
    this.#stopListening?.();
  }

  jobSucceeded(job: Job, value: unknown): void {
    if (this.#settled) return;
    this.#parts[job.ref as number] = value as R[];
    if (--this.#left === 0) {
      const values = joinParts(this.#parts);
      this.#settle();
      fulfil(this.#result, values);
    }
  }

  jobFailed(_job: Job, error: unknown): void {
    if (this.#settled) return;
    this.#settle();
    // Like Python, the first failure settles the map; unlike Python, the chunks still queued
    // are withdrawn rather than run for nothing.
    for (const job of this.#jobs) this.#scheduler.cancel(job);
    reject(this.#result, error);
  }
}
