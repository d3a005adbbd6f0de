/**
 * `Pool`: Python's `multiprocessing.Pool` API over the scheduler. This file checks arguments,
 * turns calls into jobs and owners, and guards the pool's lifecycle: running → closed → terminated.
 */
import { availableParallelism } from 'node:os';
import { AsyncResult, reject, type ResultCallbacks } from './async-result.js';
import { PoolStateError } from './errors.js';
import type { Executor } from './executor.js';
import { ImapRun } from './imap-run.js';
import { Job } from './job.js';
import { applyOwner, defaultChunksize, MapRun } from './map-run.js';
import { Scheduler, type Fallback } from './scheduler.js';
import { describe, FnRegistry, type FnEntry, type Task, type TaskArgs, type TaskFunction, type TaskResult } from './task.js';
import { checkArray, checkPositiveInteger, isAsyncIterable, isIterable } from './validate.js';
import { RunMode } from './wire.js';

/** Options of `new Pool(options)`, as Python's `Pool(processes, initializer, initargs, maxtasksperchild, context)`. */
export interface PoolOptions {
  /** Number of workers. Default: `os.availableParallelism()`. */
  processes?: number;
  /** Runs once in every worker before its first task, replacements included. */
  initializer?: Task;
  /** Arguments for `initializer`. Default: `[]`. */
  initargs?: readonly unknown[];
  /** Tasks a worker runs before it is replaced by a fresh one. Default: no limit (`null`). */
  maxtasksperchild?: number | null;
  /** Where workers run; see the `mpool` package for the names. */
  context?: string;
}

/** The context a pool runs in: its name and the backend that starts its workers. */
export interface PoolBackend {
  readonly context: string;
  readonly executor: Executor;
  /** Where to move when a task or the initializer cannot run on `executor` (the 'auto' context). */
  readonly fallback?: Fallback;
}

/** `chunksize` as a number, or as `{ chunksize }`. */
export type ChunksizeOption = number | { chunksize?: number };

/** Options of `mapAsync` and `starmapAsync`. */
export interface MapAsyncOptions<R> extends ResultCallbacks<R[]> {
  /** Items per message to a worker. Default: about four chunks per worker, as in Python. */
  chunksize?: number;
}

/** A one-argument task function, for `map` and `imap`. */
export type MapFunction = (item: never) => unknown;

/** The item type `map` and `imap` take for `F`: its first parameter; anything when it has none. */
export type MapItem<F extends MapFunction> = Parameters<F> extends [] ? unknown : Parameters<F>[0];

/** What `map` and `imap` accept as input. */
export type Input<T> = Iterable<T> | AsyncIterable<T>;

const POOL_OPTION_NAMES = new Set(['processes', 'initializer', 'initargs', 'maxtasksperchild', 'context']);

function readChunksize(option: unknown, name = 'chunksize'): number | undefined {
  if (option === undefined || option === null) return undefined;
  if (typeof option === 'object') return readChunksize((option as { chunksize?: unknown }).chunksize, name);
  checkPositiveInteger(option, name);
  return option;
}

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
  #terminating: Promise<void> | undefined;

  /**
   * @param options the number of workers, or the options; default: one worker per CPU.
   * @param backend the context's backend; the `mpool` package supplies it from `options.context`.
   */
  constructor(options: number | PoolOptions | undefined, backend: PoolBackend) {
    const opts: PoolOptions = typeof options === 'number' ? { processes: options } : (options ?? {});
    if (typeof opts !== 'object' || opts === null) {
      throw new TypeError(`Expected the number of workers or an options object, got \`${describe(options)}\``);
    }
    for (const key of Object.keys(opts)) {
      if (!POOL_OPTION_NAMES.has(key)) {
        throw new TypeError(`Unknown Pool option \`${key}\`; the options are ${[...POOL_OPTION_NAMES].join(', ')}`);
      }
    }
    const size = opts.processes ?? availableParallelism();
    checkPositiveInteger(size, 'processes');
    let maxTasksPerChild = Infinity;
    if (opts.maxtasksperchild !== undefined && opts.maxtasksperchild !== null) {
      checkPositiveInteger(opts.maxtasksperchild, 'maxtasksperchild');
      maxTasksPerChild = opts.maxtasksperchild;
    }
    const initargs = opts.initargs ?? [];
    checkArray(initargs, 'initargs');
    const initializer = opts.initializer === undefined || opts.initializer === null ? undefined : this.#functions.lookup(opts.initializer).spec;
    this.#size = size;
    this.#scheduler = new Scheduler({
      executor: backend.executor,
      context: backend.context,
      fallback: backend.fallback,
      size,
      init: { initializer, initargs },
      maxTasksPerChild,
    });
  }

  /** The number of workers. */
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
   * @example await pool.apply(sqr, [5]); // 25
   */
  async apply<F extends TaskFunction>(fn: Task<F>, args?: TaskArgs<F>): Promise<TaskResult<F>> {
    return this.applyAsync(fn, args).get();
  }

  /**
   * Runs `fn(...args)` in a worker; returns at once with an {@link AsyncResult}.
   * Throws `PoolStateError` when the pool no longer takes work.
   * @example
   * const r = pool.applyAsync(sqr, [7], { callback: (v) => console.log(v) });
   * await r; // 49
   */
  applyAsync<F extends TaskFunction>(fn: Task<F>, args?: TaskArgs<F>, callbacks?: ResultCallbacks<TaskResult<F>>): AsyncResult<TaskResult<F>> {
    const entry = this.#functions.lookup(fn);
    const argv: readonly unknown[] = args ?? [];
    checkArray(argv, 'args');
    this.#checkRunning();
    const result = new AsyncResult<TaskResult<F>>(callbacks);
    this.#scheduler.submit(new Job(entry, RunMode.Apply, argv, 1, applyOwner, result));
    return result;
  }

  /**
   * `fn(item)` for every item, in parallel, in chunks; resolves with the results in input order.
   * Rejects with the first error (a task's, or the input's own).
   * @param chunksize items per message to a worker; default: about four chunks per worker.
   * @example await pool.map(sqr, [1, 2, 3], 2); // [1, 4, 9]
   */
  async map<F extends MapFunction>(fn: Task<F>, iterable: Input<MapItem<F>>, chunksize?: ChunksizeOption): Promise<TaskResult<F>[]> {
    return this.#mapAsync<TaskResult<F>>(fn, iterable, RunMode.Map, readChunksize(chunksize), undefined).get();
  }

  /** `map` returning an {@link AsyncResult}, with optional callbacks. */
  mapAsync<F extends MapFunction>(fn: Task<F>, iterable: Input<MapItem<F>>, options?: ChunksizeOption | MapAsyncOptions<TaskResult<F>>): AsyncResult<TaskResult<F>[]> {
    return this.#mapAsync<TaskResult<F>>(fn, iterable, RunMode.Map, readChunksize(options), typeof options === 'object' ? (options as MapAsyncOptions<TaskResult<F>>) : undefined);
  }

  /**
   * `fn(...args)` for every argument list; results in input order.
   * @example await pool.starmap(add, [[1, 2], [3, 4]]); // [3, 7]
   */
  async starmap<F extends TaskFunction>(fn: Task<F>, iterable: Input<TaskArgs<F>>, chunksize?: ChunksizeOption): Promise<TaskResult<F>[]> {
    return this.#mapAsync<TaskResult<F>>(fn, iterable, RunMode.Starmap, readChunksize(chunksize), undefined).get();
  }

  /** `starmap` returning an {@link AsyncResult}, with optional callbacks. */
  starmapAsync<F extends TaskFunction>(fn: Task<F>, iterable: Input<TaskArgs<F>>, options?: ChunksizeOption | MapAsyncOptions<TaskResult<F>>): AsyncResult<TaskResult<F>[]> {
    return this.#mapAsync<TaskResult<F>>(fn, iterable, RunMode.Starmap, readChunksize(options), typeof options === 'object' ? (options as MapAsyncOptions<TaskResult<F>>) : undefined);
  }

  /**
   * A lazy, ordered `map`: an async iterator that pulls the input as the results are consumed.
   * Works on endless inputs; leaving the loop stops the remaining work.
   * @param chunksize items per message to a worker; default 1.
   * @example for await (const y of pool.imap(sqr, naturals())) if (y > 100) break;
   */
  imap<F extends MapFunction>(fn: Task<F>, iterable: Input<MapItem<F>>, chunksize?: ChunksizeOption): AsyncIterableIterator<TaskResult<F>> {
    return this.#imap(fn, iterable, chunksize, true);
  }

  /** `imap` yielding results as they complete, in any order. */
  imapUnordered<F extends MapFunction>(fn: Task<F>, iterable: Input<MapItem<F>>, chunksize?: ChunksizeOption): AsyncIterableIterator<TaskResult<F>> {
    return this.#imap(fn, iterable, chunksize, false);
  }

  /**
   * Takes no more work; the workers exit once the pending work is done. Resolves when they have
   * (the same as `join()` afterwards).
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

  #mapAsync<R>(fn: unknown, iterable: unknown, mode: RunMode.Map | RunMode.Starmap, chunksize: number | undefined, callbacks: ResultCallbacks<R[]> | undefined): AsyncResult<R[]> {
    const entry = this.#functions.lookup(fn);
    checkInput(iterable);
    this.#checkRunning();
    const result = new AsyncResult<R[]>(callbacks);
    const start = (items: unknown[]): void => {
      if (mode === RunMode.Starmap) {
        for (const args of items) checkArray(args, 'each starmap item');
      }
      new MapRun(this.#scheduler, result, entry, mode, items, chunksize ?? defaultChunksize(items.length, this.#size));
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

  #imap(fn: unknown, iterable: unknown, chunksize: ChunksizeOption | undefined, ordered: boolean): ImapRun<never> {
    const entry: FnEntry = this.#functions.lookup(fn);
    checkInput(iterable);
    const size = readChunksize(chunksize) ?? 1;
    this.#checkRunning();
    return new ImapRun<never>(this.#scheduler, entry, RunMode.Map, iterable, { ordered, chunksize: size, workers: this.#size });
  }
}
