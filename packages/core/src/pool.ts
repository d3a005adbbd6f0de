/**
 * `Pool`: Python's `multiprocessing.Pool` API over the scheduler. This file checks arguments,
 * turns calls into jobs and owners, and guards the pool's lifecycle: running → closed → terminated.
 */
import { AbortableApply, applyOwner } from './apply-run.js';
import { AsyncResult, reject } from './async-result.js';
import {
  abortError,
  checkTaskTimeout,
  readCallOptions,
  type ApplyAsyncOptions,
  type ApplyOptions,
  type CallSettings,
  type ChunksizeOption,
  type MapAsyncOptions,
} from './call-options.js';
import { DataCloneError, PoolStateError } from './errors.js';
import type { Executor, WorkerLimits } from './executor.js';
import { ImapRun } from './imap-run.js';
import { Job } from './job.js';
import { defaultChunksize, MapRun } from './map-run.js';
import { checkPoolSize, defaultPoolSize, workersAtStart } from './pool-size.js';
import { Scheduler, type Fallback } from './scheduler/index.js';
import { describe, FnRegistry, type FnEntry, type Task } from './task.js';
import { checkArray, checkPositiveInteger, isAsyncIterable, isIterable } from './validate.js';
import { RunMode } from './wire.js';

/** Options of `new Pool(options)`, as Python's `Pool(processes, initializer, initargs, maxtasksperchild, context)`. */
export interface PoolOptions {
  /**
   * Number of workers: an integer from 1 to 1024 (mpool's limit). Up to one per CPU (and at least
   * 16) start with the pool; a bigger pool starts the others as its work needs them, when more
   * tasks or chunks are pending than it has workers. Default: `os.availableParallelism()`.
   */
  processes?: number;
  /**
   * A task run once in every worker before its first task, replacements included, with
   * `initargs`. Default: none.
   * @example
   * new Pool({ initializer: task(new URL('./tasks.js', import.meta.url), 'connect'), initargs: ['db.sqlite'] });
   */
  initializer?: Task;
  /** Arguments for `initializer`. Default: `[]`. */
  initargs?: readonly unknown[];
  /** Tasks a worker runs before it is replaced by a fresh one. Default: no limit (`null`). */
  maxtasksperchild?: number | null;
  /** Where workers run; see the `@mpool/pool` package for the names. Default there: `'auto'`. */
  context?: string;
  /**
   * Milliseconds any task (for maps: any chunk) may run before it fails with `TimeoutError` and
   * its worker is replaced; each call's `timeout` overrides it. It bounds each worker's
   * initializer too, from when its module starts loading: a worker whose initializer runs longer
   * fails to start, and after three such failures in a row the pool is broken (`InitializerError`).
   * Default: none.
   */
  timeout?: number;
  /**
   * Memory limits of each worker. A worker that exceeds them fails its task with
   * `WorkerCrashedError` and is replaced. Threads honour them all; processes honour
   * `maxOldGenerationSizeMb` and `maxYoungGenerationSizeMb`. Worker processes keep their young
   * generation at one size (semi-spaces of 4 MiB) unless `maxYoungGenerationSizeMb` is given:
   * then its semi-spaces (a third of it each) start at 4 MiB, or less when it says less, and may
   * grow to that. Default: none (Node's own limits).
   * @example
   * new Pool({ resourceLimits: { maxOldGenerationSizeMb: 512 } });
   */
  resourceLimits?: WorkerLimits;
}

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

const POOL_OPTION_NAMES = new Set(['processes', 'initializer', 'initargs', 'maxtasksperchild', 'context', 'timeout', 'resourceLimits']);

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
  #terminating: Promise<void> | undefined;

  /**
   * @param options the number of workers, or the options; default: one worker per CPU.
   * @param backend the context's backend; the `@mpool/pool` package supplies it from `options.context`.
   */
  constructor(options: number | PoolOptions | undefined, backend: PoolBackend) {
    const opts: PoolOptions = typeof options === 'number' ? { processes: options } : (options ?? {});
    if (typeof opts !== 'object' || opts === null) {
      throw new TypeError(`Expected the number of workers or an options object, got \`${describe(options)}\``);
    }
    const backendOptions = backend.optionNames ?? [];
    for (const key of Object.keys(opts)) {
      if (!POOL_OPTION_NAMES.has(key) && !backendOptions.includes(key)) {
        throw new TypeError(`Unknown Pool option \`${key}\`; the options are ${[...POOL_OPTION_NAMES, ...backendOptions].join(', ')}`);
      }
    }
    const size = opts.processes ?? defaultPoolSize();
    checkPoolSize(size);
    let maxTasksPerChild = Infinity;
    if (opts.maxtasksperchild !== undefined && opts.maxtasksperchild !== null) {
      checkPositiveInteger(opts.maxtasksperchild, 'maxtasksperchild');
      maxTasksPerChild = opts.maxtasksperchild;
    }
    const initargs = opts.initargs ?? [];
    checkArray(initargs, 'initargs');
    // Every worker is sent them: one that cannot be copied is the caller's mistake, said here
    // alike on every context, rather than as workers that never start.
    try {
      structuredClone(initargs);
    } catch (error) {
      throw new DataCloneError(`initargs could not be copied to the workers: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const initializer = opts.initializer === undefined || opts.initializer === null ? undefined : this.#functions.lookup(opts.initializer).spec;
    this.#size = size;
    this.#timeoutMs = checkTaskTimeout(opts.timeout, 'timeout');
    this.#scheduler = new Scheduler({
      executor: backend.executor,
      context: backend.context,
      fallback: backend.fallback,
      size,
      startAtOnce: workersAtStart(size),
      init: { initializer, initargs },
      maxTasksPerChild,
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
   * Runs `fn(...args)` in a worker and resolves with its result.
   * @param options `timeout` (ms) and `signal`; see {@link TaskOptions}.
   * @example await pool.apply(sqr, [5]); // 25
   */
  async apply<A extends Args, R>(fn: Task<(...args: A) => R>, args?: A, options?: ApplyOptions): Promise<Awaited<R>> {
    return this.#applyAsync<Awaited<R>>(fn, args, readCallOptions(options, 'apply', this.#timeoutMs)).get();
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
    return this.#applyAsync<Awaited<R>>(fn, args, readCallOptions(options, 'applyAsync', this.#timeoutMs));
  }

  /**
   * `fn(item)` for every item, in parallel, in chunks; resolves with the results in input order.
   * Rejects with the first error (a task's, or the input's own).
   * @param options the chunksize (items per message to a worker; default about four chunks per
   *   worker, as Python's), or `{ chunksize, timeout, signal }`.
   * @example await pool.map(sqr, [1, 2, 3], 2); // [1, 4, 9]
   */
  async map<T, R>(fn: Task<(item: T) => R>, iterable: Input<T>, options?: ChunksizeOption): Promise<Awaited<R>[]> {
    return this.#mapAsync<Awaited<R>>(fn, iterable, RunMode.Map, readCallOptions(options, 'map', this.#timeoutMs)).get();
  }

  /** `map` returning an {@link AsyncResult}; options add `callback` and `errorCallback`. */
  mapAsync<T, R>(fn: Task<(item: T) => R>, iterable: Input<T>, options?: number | MapAsyncOptions<Awaited<R>>): AsyncResult<Awaited<R>[]> {
    return this.#mapAsync<Awaited<R>>(fn, iterable, RunMode.Map, readCallOptions(options, 'mapAsync', this.#timeoutMs));
  }

  /**
   * `fn(...args)` for every argument list; results in input order.
   * @example await pool.starmap(add, [[1, 2], [3, 4]]); // [3, 7]
   */
  async starmap<A extends Args, R>(fn: Task<(...args: A) => R>, iterable: Input<A>, options?: ChunksizeOption): Promise<Awaited<R>[]> {
    return this.#mapAsync<Awaited<R>>(fn, iterable, RunMode.Starmap, readCallOptions(options, 'map', this.#timeoutMs)).get();
  }

  /** `starmap` returning an {@link AsyncResult}; options add `callback` and `errorCallback`. */
  starmapAsync<A extends Args, R>(fn: Task<(...args: A) => R>, iterable: Input<A>, options?: number | MapAsyncOptions<Awaited<R>>): AsyncResult<Awaited<R>[]> {
    return this.#mapAsync<Awaited<R>>(fn, iterable, RunMode.Starmap, readCallOptions(options, 'mapAsync', this.#timeoutMs));
  }

  /**
   * A lazy, ordered `map`: an async iterator that pulls the input as the results are consumed.
   * Works on endless inputs; leaving the loop stops the remaining work.
   * @param options the chunksize (default 1), or `{ chunksize, timeout, signal }`.
   * @example for await (const y of pool.imap(sqr, naturals())) if (y > 100) break;
   */
  imap<T, R>(fn: Task<(item: T) => R>, iterable: Input<T>, options?: ChunksizeOption): AsyncIterableIterator<Awaited<R>> {
    return this.#imap(fn, iterable, options, true);
  }

  /** `imap` yielding results as they complete, in any order. */
  imapUnordered<T, R>(fn: Task<(item: T) => R>, iterable: Input<T>, options?: ChunksizeOption): AsyncIterableIterator<Awaited<R>> {
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

  #checkRunning(): void {
    const state = this.#scheduler.state;
    if (state !== 'running') {
      throw new PoolStateError(`The pool is ${state} and takes no new work`);
    }
    const broken = this.#scheduler.broken;
    if (broken !== undefined) throw new PoolStateError('The pool is broken: its workers could not start', { cause: broken });
  }

  #applyAsync<R>(fn: unknown, args: unknown, settings: CallSettings): AsyncResult<R> {
    const entry = this.#functions.lookup(fn);
    const argv = args ?? [];
    checkArray(argv, 'args');
    this.#checkRunning();
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
    this.#checkRunning();
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
    const settings = readCallOptions(options, 'map', this.#timeoutMs);
    this.#checkRunning();
    return new ImapRun<never>(this.#scheduler, entry, RunMode.Map, iterable, {
      ordered,
      chunksize: settings.chunksize ?? 1,
      workers: this.#size,
      timeoutMs: settings.timeoutMs,
      signal: settings.signal,
    });
  }
}
