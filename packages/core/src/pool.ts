/**
 * `Pool`: Python's `multiprocessing.Pool` API over the scheduler. This file checks arguments,
 * turns calls into jobs and owners, and guards the pool's lifecycle: running → closed → terminated.
 * Its options are read in pool-options.ts; what it tells of itself (`stats()`, events, `drained()`)
 * comes from stats.ts and events.ts.
 */
import { AbortableApply, applyOwner } from './apply-run.js';
import { AsyncResult, reject } from './async-result.js';
import {
  abortError,
  checkTaskTimeout,
  readCallOptions,
  type ApplyAsyncOptions,
  type ApplyOptions,
  type CallKind,
  type CallSettings,
  type ChunksizeOption,
  type ImapOptions,
  type MapAsyncOptions,
} from './call-options.js';
import { PoolStateError, QueueFullError } from './errors.js';
import { PoolEvents, type PoolEventListener, type PoolEventName } from './events.js';
import type { Executor } from './executor.js';
import { ImapRun } from './imap-run.js';
import { Job } from './job.js';
import { defaultChunksize, MapRun } from './map-run.js';
import { readPoolOptions, type PoolOptions } from './pool-options.js';
import { workersAtStart } from './pool-size.js';
import { Scheduler, type Fallback } from './scheduler/index.js';
import type { PoolStats } from './stats.js';
import { describe, FnRegistry, type FnEntry, type Task } from './task.js';
import { checkArray, isAsyncIterable, isIterable } from './validate.js';
import { RunMode } from './wire.js';

/** The context a pool runs in: its name and the backend that starts its workers. */
export interface PoolBackend {
  readonly context: string;
  readonly executor: Executor;
  /** Where to move when a task or the initializer cannot run on `executor` (the 'auto' context). */
  readonly fallback?: Fallback;
  /** Options the backend reads itself, which the pool accepts beside its own (`connection`, …). */
  readonly optionNames?: readonly string[];
}

/**
 * A task's argument list. Signatures take the argument types `A` and result `R` apart (rather
 * than one function type), so that TypeScript infers them from the task and the arguments alike,
 * for arrow functions, `function` expressions and `task()` references.
 */
export type Args = readonly unknown[] | [];

/** What `map` and `imap` accept as input. */
export type Input<T> = Iterable<T> | AsyncIterable<T>;

function checkInput(iterable: unknown): asserts iterable is Input<unknown> {
  if (!isIterable(iterable) && !isAsyncIterable(iterable)) {
    throw new TypeError(`Expected an iterable or async iterable of inputs, got \`${describe(iterable)}\``);
  }
}

async function collect(iterable: Input<unknown>): Promise<unknown[]> {
  if (Array.isArray(iterable)) return iterable as unknown[];
  const items: unknown[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/**
 * A pool of workers running functions in parallel: Python's `multiprocessing.Pool` for Node.
 * @example
 * await using pool = new Pool(4);
 * await pool.map(sqr, [1, 2, 3]); // [1, 4, 9]
 */
export class Pool {
  readonly #scheduler: Scheduler;
  readonly #functions = new FnRegistry();
  readonly #size: number;
  readonly #timeoutMs: number;
  /** The settings of every call made without options, read once: a tiny task's call allocates none. */
  readonly #noOptions: CallSettings;
  readonly #maxQueue: number;
  /** The pool's listeners and drain waiters, made when first needed. */
  #events: PoolEvents | undefined;
  #terminating: Promise<void> | undefined;

  /**
   * @param options the number of workers, or the options; default: one worker per CPU.
   * @param backend the context's backend; the `@mpool/pool` package supplies it from `options.context`.
   */
  constructor(options: number | PoolOptions | undefined, backend: PoolBackend) {
    const settings = readPoolOptions(options, backend.optionNames ?? [], this.#functions);
    const { size, initializer, initargs, workerData } = settings;
    this.#size = size;
    this.#timeoutMs = settings.timeoutMs;
    this.#noOptions = readCallOptions(undefined, 'apply', this.#timeoutMs);
    this.#maxQueue = settings.maxQueue;
    this.#scheduler = new Scheduler({
      executor: backend.executor,
      context: backend.context,
      fallback: backend.fallback,
      size,
      startAtOnce: workersAtStart(size),
      init: { initializer, initargs, workerData },
      maxTasksPerChild: settings.maxTasksPerChild,
      startTimeoutMs: this.#timeoutMs,
    });
  }

  /** The number of workers: the pool's size, whether or not they have all started yet. */
  get processes(): number {
    return this.#size;
  }

  /**
   * The context the workers run in: `'thread'`, `'fork'`, `'spawn'`, `'forkserver'`. An `'auto'`
   * pool reports `'thread'`, or `'fork'` once it has moved to processes.
   */
  get context(): string {
    return this.#scheduler.context;
  }

  /** `'running'`, `'closed'` or `'terminated'`. */
  get state(): 'running' | 'closed' | 'terminated' {
    return this.#scheduler.state;
  }

  /**
   * What the pool has done and is doing: its workers, its tasks, their run and wait times, its
   * utilization ({@link PoolStats}). Cheap enough to call often.
   * @example
   * const { workers, tasks, waitTime } = pool.stats();
   */
  stats(): PoolStats {
    return this.#scheduler.stats();
  }

  /** Whether as many tasks as `maxQueue` wait for a worker: a call now would be refused (`QueueFullError`). */
  get queueFull(): boolean {
    return this.#scheduler.queued >= this.#maxQueue;
  }

  /**
   * Resolves once no task waits for a worker: at once when none does. For a producer that waits
   * for room in the queue (`maxQueue`); the tasks sent may still be running.
   * @example
   * if (pool.queueFull) await pool.drained();
   */
  drained(): Promise<void> {
    if (this.#scheduler.queued === 0) return Promise.resolve();
    return this.#listeners().nextDrain();
  }

  /**
   * Calls `listener` on every `event` of the pool ({@link PoolEventMap}): `'workerStart'`,
   * `'workerExit'`, `'taskFailed'`, `'drain'`. Listeners run after the pool has done what the
   * event reports; one that throws is reported as an uncaught exception, and the pool goes on.
   * @example
   * pool.on('workerExit', (worker) => { if (worker.crashed) console.warn('a worker died', worker); });
   */
  on<E extends PoolEventName>(event: E, listener: PoolEventListener<E>): this {
    this.#listeners().add(event, listener, false);
    return this;
  }

  /** As {@link Pool.on}, for the next `event` only. */
  once<E extends PoolEventName>(event: E, listener: PoolEventListener<E>): this {
    this.#listeners().add(event, listener, true);
    return this;
  }

  /** Stops calling `listener` on `event` (added by `on` or `once`). */
  off<E extends PoolEventName>(event: E, listener: PoolEventListener<E>): this {
    this.#events?.remove(event, listener);
    return this;
  }

  /**
   * Runs `fn(...args)` in a worker and resolves with its result.
   * @param options `timeout` (ms) and `signal`; see {@link TaskOptions}.
   * @example await pool.apply(sqr, [5]); // 25
   */
  async apply<A extends Args, R>(fn: Task<(...args: A) => R>, args?: A, options?: ApplyOptions): Promise<Awaited<R>> {
    return this.#applyAsync<Awaited<R>>(fn, args, this.#read(options, 'apply')).get();
  }

  /**
   * Runs `fn(...args)` in a worker; returns at once with an {@link AsyncResult}.
   * Throws `PoolStateError` when the pool no longer takes work.
   * @param options `callback`, `errorCallback`, `timeout` (ms), `signal`. A callback that throws
   *   is reported as an uncaught exception, as Node reports a throwing listener; the result is
   *   settled all the same, and the pool goes on.
   * @example
   * const r = pool.applyAsync(sqr, [7], { callback: (v) => console.log(v) });
   * await r; // 49
   */
  applyAsync<A extends Args, R>(fn: Task<(...args: A) => R>, args?: A, options?: ApplyAsyncOptions<Awaited<R>>): AsyncResult<Awaited<R>> {
    return this.#applyAsync<Awaited<R>>(fn, args, this.#read(options, 'applyAsync'));
  }

  /**
   * `fn(item)` for every item, in parallel, in chunks; resolves with the results in input order.
   * Rejects with the first error (a task's, or the input's own).
   * @param options the chunksize (items per message to a worker; default about four chunks per
   *   worker, as Python's), or `{ chunksize, timeout, signal, onProgress }`.
   * @example await pool.map(sqr, [1, 2, 3], 2); // [1, 4, 9]
   * @example await pool.map(sqr, items, { onProgress: (done, total) => console.log(`${done}/${total}`) });
   */
  async map<T, R>(fn: Task<(item: T) => R>, iterable: Input<T>, options?: ChunksizeOption): Promise<Awaited<R>[]> {
    return this.#mapAsync<Awaited<R>>(fn, iterable, RunMode.Map, this.#read(options, 'map')).get();
  }

  /** `map` returning an {@link AsyncResult}; options add `callback` and `errorCallback`. */
  mapAsync<T, R>(fn: Task<(item: T) => R>, iterable: Input<T>, options?: number | MapAsyncOptions<Awaited<R>>): AsyncResult<Awaited<R>[]> {
    return this.#mapAsync<Awaited<R>>(fn, iterable, RunMode.Map, this.#read(options, 'mapAsync'));
  }

  /**
   * `fn(...args)` for every argument list; results in input order.
   * @example await pool.starmap(add, [[1, 2], [3, 4]]); // [3, 7]
   */
  async starmap<A extends Args, R>(fn: Task<(...args: A) => R>, iterable: Input<A>, options?: ChunksizeOption): Promise<Awaited<R>[]> {
    return this.#mapAsync<Awaited<R>>(fn, iterable, RunMode.Starmap, this.#read(options, 'map')).get();
  }

  /** `starmap` returning an {@link AsyncResult}; options add `callback` and `errorCallback`. */
  starmapAsync<A extends Args, R>(fn: Task<(...args: A) => R>, iterable: Input<A>, options?: number | MapAsyncOptions<Awaited<R>>): AsyncResult<Awaited<R>[]> {
    return this.#mapAsync<Awaited<R>>(fn, iterable, RunMode.Starmap, this.#read(options, 'mapAsync'));
  }

  /**
   * A lazy, ordered `map`: an async iterator that pulls the input as the results are consumed.
   * Works on endless inputs; leaving the loop stops the remaining work.
   * @param options the chunksize (default 1), or `{ chunksize, timeout, signal }`.
   * @example for await (const y of pool.imap(sqr, naturals())) if (y > 100) break;
   */
  imap<T, R>(fn: Task<(item: T) => R>, iterable: Input<T>, options?: number | ImapOptions): AsyncIterableIterator<Awaited<R>> {
    return this.#imap(fn, iterable, options, true);
  }

  /** `imap` yielding results as they complete, in any order. */
  imapUnordered<T, R>(fn: Task<(item: T) => R>, iterable: Input<T>, options?: number | ImapOptions): AsyncIterableIterator<Awaited<R>> {
    return this.#imap(fn, iterable, options, false);
  }

  /**
   * Takes no more work; the workers exit once the pending work is done, and workers still starting
   * (an initializer that never ends) are stopped then. Resolves when they have (the same as
   * `join()` afterwards).
   */
  close(): Promise<void> {
    this.#scheduler.close();
    return this.#scheduler.allExited;
  }

  /**
   * Stops every worker now; every pending result rejects with `PoolStateError`. Resolves when the
   * workers are gone.
   */
  terminate(): Promise<void> {
    this.#terminating ??= (() => {
      this.#scheduler.terminate(new PoolStateError('The pool was terminated before this task finished'));
      return this.#scheduler.allExited;
    })();
    return this.#terminating;
  }

  /**
   * Waits for every worker to exit, after `close()` or `terminate()`. Rejects with
   * `PoolStateError` while the pool is still running, as Python raises `ValueError`.
   */
  async join(): Promise<void> {
    if (this.#scheduler.state === 'running') {
      throw new PoolStateError('join() needs the pool closed or terminated first; call close() or terminate()');
    }
    return this.#scheduler.allExited;
  }

  /** `await using pool = new Pool()`: terminates at the end of the block, as Python's `with`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminate();
  }

  /** A call's options, read and checked (call-options.ts); a call without any shares #noOptions. */
  #read(options: unknown, kind: CallKind): CallSettings {
    return options === undefined ? this.#noOptions : readCallOptions(options, kind, this.#timeoutMs);
  }

  /** The pool's listeners, told of the scheduler's events from the first on. */
  #listeners(): PoolEvents {
    if (this.#events === undefined) {
      this.#events = new PoolEvents();
      this.#scheduler.observe(this.#events);
    }
    return this.#events;
  }

  #checkRunning(): void {
    const state = this.#scheduler.state;
    if (state !== 'running') {
      throw new PoolStateError(`The pool is ${state} and takes no new work`);
    }
    const broken = this.#scheduler.broken;
    if (broken !== undefined) throw new PoolStateError('The pool is broken: its workers could not start', { cause: broken });
  }

  /** The checks of a call that brings work: the pool runs, and its queue has room. */
  #checkAccepting(): void {
    this.#checkRunning();
    const queued = this.#scheduler.queued;
    if (queued >= this.#maxQueue) {
      throw new QueueFullError(`The pool's queue is full: ${queued} tasks wait for a worker (maxQueue ${this.#maxQueue}); wait for room with \`await pool.drained()\``);
    }
  }

  #applyAsync<R>(fn: unknown, args: unknown, settings: CallSettings): AsyncResult<R> {
    const entry = this.#functions.lookup(fn);
    const argv = args ?? [];
    checkArray(argv, 'args');
    this.#checkAccepting();
    const result = new AsyncResult<R>(settings.callbacks);
    const { signal, timeoutMs } = settings;
    if (signal?.aborted === true) {
      reject(result, abortError(signal));
      return result;
    }
    const owner = signal === undefined ? applyOwner : new AbortableApply();
    const job = new Job<AsyncResult<unknown>>(entry, RunMode.Apply, argv, 1, owner, result, settings);
    if (owner instanceof AbortableApply && signal !== undefined) owner.watch(this.#scheduler, signal, job);
    this.#scheduler.submit(job);
    return result;
  }

  #mapAsync<R>(fn: unknown, iterable: unknown, mode: RunMode.Map | RunMode.Starmap, settings: CallSettings): AsyncResult<R[]> {
    const entry = this.#functions.lookup(fn);
    checkInput(iterable);
    this.#checkAccepting();
    const result = new AsyncResult<R[]>(settings.callbacks);
    const { signal } = settings;
    const start = (items: unknown[]): void => {
      if (signal?.aborted === true) throw abortError(signal);
      if (mode === RunMode.Starmap) {
        for (const args of items) checkArray(args, 'each starmap item');
      }
      new MapRun(this.#scheduler, result, entry, mode, items, settings.chunksize ?? defaultChunksize(items.length, this.#size), settings);
    };
    if (Array.isArray(iterable) || !isAsyncIterable(iterable)) {
      // A sync input is read now, as Python lists it before mapping.
      let items: unknown[];
      try {
        items = Array.isArray(iterable) ? (iterable as unknown[]) : Array.from(iterable as Iterable<unknown>);
        start(items);
      } catch (error) {
        reject(result, error);
      }
    } else {
      collect(iterable).then(
        (items) => {
          this.#checkRunning();
          start(items);
        },
      ).catch((error: unknown) => reject(result, error));
    }
    return result;
  }

  #imap(fn: unknown, iterable: unknown, options: unknown, ordered: boolean): ImapRun<never> {
    const entry: FnEntry = this.#functions.lookup(fn);
    checkInput(iterable);
    const settings = this.#read(options, 'imap');
    this.#checkAccepting();
    return new ImapRun<never>(this.#scheduler, entry, RunMode.Map, iterable, {
      ordered,
      chunksize: settings.chunksize ?? 1,
      workers: this.#size,
      timeoutMs: settings.timeoutMs,
      signal: settings.signal,
    });
  }
}
