/**
 * The options of `new Pool(options)`: their types, their defaults, and their checks. The options
 * of the workers' start (`resourceLimits`, `env`, `execArgv`) are the backend's to read and check
 * (the `@mpool/pool` package); the pool itself reads the others here.
 */
import { DataCloneError } from './errors.js';
import type { WorkerLimits } from './executor.js';
import { checkTaskTimeout } from './call-options.js';
import { checkPoolSize, defaultPoolSize } from './pool-size.js';
import { describe, type FnRegistry, type Task } from './task.js';
import { checkArray, checkPositiveInteger } from './validate.js';
import type { FnSpec } from './wire.js';

/** Options of `new Pool(options)`, as Python's `Pool(processes, initializer, initargs, maxtasksperchild, context)`, and more. */
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
  /**
   * The most tasks that may wait for a worker (a map's chunks count as tasks). A call made while
   * that many wait is refused: `applyAsync`, `imap` and `imapUnordered` throw `QueueFullError`,
   * `apply` and the maps reject with it. A map that is let in queues all its chunks. `pool.queueFull`
   * says when a call would be refused; `await pool.drained()` waits for room. Default: no limit
   * (`Infinity`).
   * @example
   * const pool = new Pool({ maxQueue: 1000 });
   * for await (const line of lines) {
   *   if (pool.queueFull) await pool.drained();
   *   pool.applyAsync(parse, [line], { callback: store });
   * }
   */
  maxQueue?: number;
  /**
   * Environment variables of every worker, over the parent's environment (as it is when each
   * worker starts); a variable set to `undefined` is left out. On threads and processes alike;
   * the 'bullmq' context refuses it (its workers' environment is their machines'). Default: the
   * parent's environment as it is.
   * @example
   * new Pool({ env: { OMP_NUM_THREADS: '1', DEBUG: undefined } });
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Node flags for every worker, added to those its context gives it: `'fork'` workers the
   * parent's `process.execArgv`, `'spawn'` and `'forkserver'` none (but tsx's loader), threads
   * what a worker thread inherits. Threads take only the flags a worker thread accepts (not
   * V8's, nor per-process ones such as `--expose-gc`): a thread pool given others throws
   * `TypeError`, pointing at the process contexts. The 'bullmq' context refuses it. Default: none.
   * @example
   * new Pool({ context: 'spawn', execArgv: ['--enable-source-maps'] });
   */
  execArgv?: readonly string[];
  /**
   * A value every worker is given a copy of, on every context ('bullmq' included): its initializer
   * and its tasks read it with `getWorkerData()`. It must be a value structured clone copies
   * (`DataCloneError` otherwise). Default: none (`getWorkerData()` gives `undefined`).
   * @example
   * new Pool({ workerData: { model: './model.bin' }, initializer: loadModel });
   */
  workerData?: unknown;
}

/** The names of PoolOptions, which every pool accepts (a backend may accept more). */
export const POOL_OPTION_NAMES: readonly string[] = [
  'processes', 'initializer', 'initargs', 'maxtasksperchild', 'context', 'timeout', 'resourceLimits', 'maxQueue', 'env', 'execArgv', 'workerData',
];

/** The options a pool reads itself, checked, with their defaults. */
export interface PoolSettings {
  readonly size: number;
  readonly initializer: FnSpec | undefined;
  readonly initargs: readonly unknown[];
  readonly maxTasksPerChild: number;
  readonly timeoutMs: number;
  readonly maxQueue: number;
  readonly workerData: unknown;
}

/** Throws DataCloneError, naming `what`, unless `value` can be copied to the workers. */
function checkCopyable(value: unknown, what: string): void {
  // Every worker is sent it: one that cannot be copied is the caller's mistake, said here alike
  // on every context, rather than as workers that never start.
  try {
    structuredClone(value);
  } catch (error) {
    throw new DataCloneError(`${what} could not be copied to the workers: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function checkMaxQueue(value: unknown): number {
  if (value === undefined || value === Infinity) return Infinity;
  checkPositiveInteger(value, 'maxQueue');
  return value;
}

/**
 * Reads `new Pool(options)`'s options: a number of workers or an options object whose keys are
 * PoolOptions' or `backendOptions`. Throws TypeError, RangeError or DataCloneError for what is wrong.
 */
export function readPoolOptions(options: unknown, backendOptions: readonly string[], functions: FnRegistry): PoolSettings {
  const opts = (typeof options === 'number' ? { processes: options } : (options ?? {})) as PoolOptions;
  if (typeof opts !== 'object' || opts === null) {
    throw new TypeError(`Expected the number of workers or an options object, got \`${describe(options)}\``);
  }
  for (const key of Object.keys(opts)) {
    if (!POOL_OPTION_NAMES.includes(key) && !backendOptions.includes(key)) {
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
  checkCopyable(initargs, 'initargs');
  const initializer = opts.initializer === undefined || opts.initializer === null ? undefined : functions.lookup(opts.initializer).spec;
  if (opts.workerData !== undefined) checkCopyable(opts.workerData, 'workerData');
  return { size, initializer, initargs, maxTasksPerChild, timeoutMs: checkTaskTimeout(opts.timeout, 'timeout'), maxQueue: checkMaxQueue(opts.maxQueue), workerData: opts.workerData };
}
