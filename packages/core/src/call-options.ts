/**
 * The options every call that runs work takes (`timeout`, `signal`), the ones maps and imaps add
 * (`chunksize`; maps also `onProgress`) and the callbacks of the `…Async` methods: their types,
 * and their checks.
 */
import type { ResultCallbacks } from './async-result.js';
import { AbortError } from './errors.js';
import { describe } from './task.js';
import { checkPositiveInteger } from './validate.js';

/** What any call that runs work takes. */
export interface TaskOptions {
  /**
   * Milliseconds a task (for maps: a chunk) may run; past it, it fails with `TimeoutError` and
   * its worker is stopped and replaced. Default: the pool's `timeout`, else none.
   * A task with a timeout runs alone on its worker, so its clock starts when it does: a task
   * waiting for a worker, busy or still starting, is not timed, even when that worker's
   * initializer never ends (the pool's `timeout` bounds initializers).
   */
  timeout?: number;
  /**
   * Aborting it fails the call with `AbortError`: queued tasks never run, running ones have their
   * worker stopped and replaced. A task with a signal runs alone on its worker. Default: none.
   * @example
   * await pool.map(sqr, items, { chunksize: 100, signal: AbortSignal.timeout(5000) });
   */
  signal?: AbortSignal;
}

/** Options of `apply`. */
export type ApplyOptions = TaskOptions;

/** Options of `applyAsync`: callbacks too. */
export interface ApplyAsyncOptions<R> extends TaskOptions, ResultCallbacks<R> {}

/** Options of `imap` and `imapUnordered`. */
export interface ImapOptions extends TaskOptions {
  /** Items per message to a worker. Default: 1. */
  chunksize?: number;
}

/** Options of `map` and `starmap`. */
export interface MapOptions extends TaskOptions {
  /** Items per message to a worker. Default: about four chunks per worker (Python's). */
  chunksize?: number;
  /**
   * Called with the items done so far and the map's length, as chunks complete: at most every
   * 10 ms, and always at the end with `(total, total)`, before the map resolves. Calls are in order, `done` never goes back. One that throws is reported as an
   * uncaught exception, and the map goes on. Default: none.
   * @example
   * await pool.map(work, items, { onProgress: (done, total) => bar.update(done / total) });
   */
  onProgress?: (done: number, total: number) => void;
}

/** Options of `mapAsync` and `starmapAsync`: callbacks too. */
export interface MapAsyncOptions<R> extends MapOptions, ResultCallbacks<R[]> {}

/** A map's chunksize as a number, or its options. */
export type ChunksizeOption = number | MapOptions;

/** The checked options of one call. */
export interface CallSettings {
  readonly chunksize: number | undefined;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  readonly callbacks: ResultCallbacks<unknown> | undefined;
  readonly onProgress: ((done: number, total: number) => void) | undefined;
}

const TASK_KEYS = ['timeout', 'signal'];
const KEYS = {
  apply: TASK_KEYS,
  applyAsync: [...TASK_KEYS, 'callback', 'errorCallback'],
  imap: [...TASK_KEYS, 'chunksize'],
  map: [...TASK_KEYS, 'chunksize', 'onProgress'],
  mapAsync: [...TASK_KEYS, 'chunksize', 'onProgress', 'callback', 'errorCallback'],
} as const;

export type CallKind = keyof typeof KEYS;

/** Checks a timeout option: a finite number of milliseconds > 0. */
export function checkTaskTimeout(value: unknown, name: string): number {
  if (value === undefined || value === null) return Infinity;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`Expected \`${name}\` to be a number of milliseconds, got \`${describe(value)}\``);
  }
  if (value <= 0 || !Number.isFinite(value)) {
    throw new RangeError(`Expected \`${name}\` to be a finite number of milliseconds > 0, got \`${value}\``);
  }
  return value;
}

function isAbortSignal(value: unknown): value is AbortSignal {
  return typeof value === 'object' && value !== null && typeof (value as AbortSignal).aborted === 'boolean'
    && typeof (value as AbortSignal).addEventListener === 'function' && typeof (value as AbortSignal).removeEventListener === 'function';
}

/**
 * Reads a call's options: `undefined`, a chunksize number (maps), or an options object whose
 * keys must be ones the call takes. `defaultTimeoutMs` is the pool's.
 */
export function readCallOptions(option: unknown, kind: CallKind, defaultTimeoutMs: number): CallSettings {
  if (option === undefined || option === null) {
    return { chunksize: undefined, timeoutMs: defaultTimeoutMs, signal: undefined, callbacks: undefined, onProgress: undefined };
  }
  const takesChunksize = kind === 'map' || kind === 'mapAsync' || kind === 'imap';
  if (typeof option === 'number' && takesChunksize) {
    checkPositiveInteger(option, 'chunksize');
    return { chunksize: option, timeoutMs: defaultTimeoutMs, signal: undefined, callbacks: undefined, onProgress: undefined };
  }
  const keys: readonly string[] = KEYS[kind];
  if (typeof option !== 'object' || Array.isArray(option)) {
    const what = takesChunksize ? 'a chunksize or an options object' : 'an options object';
    throw new TypeError(`Expected ${what} (${keys.join(', ')}), got \`${describe(option)}\``);
  }
  const record = option as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!keys.includes(key)) throw new TypeError(`Unknown option \`${key}\`; this call takes ${keys.join(', ')}`);
  }
  let chunksize: number | undefined;
  if (record.chunksize !== undefined && record.chunksize !== null) {
    checkPositiveInteger(record.chunksize, 'chunksize');
    chunksize = record.chunksize;
  }
  const timeoutMs = record.timeout === undefined ? defaultTimeoutMs : checkTaskTimeout(record.timeout, 'timeout');
  const signal = record.signal ?? undefined;
  if (signal !== undefined && !isAbortSignal(signal)) {
    throw new TypeError(`Expected \`signal\` to be an AbortSignal, got \`${describe(signal)}\``);
  }
  for (const name of ['callback', 'errorCallback', 'onProgress']) {
    if (record[name] !== undefined && typeof record[name] !== 'function') {
      throw new TypeError(`Expected \`${name}\` to be a function, got \`${describe(record[name])}\``);
    }
  }
  const callbacks = kind === 'applyAsync' || kind === 'mapAsync' ? (record as ResultCallbacks<unknown>) : undefined;
  const onProgress = (record as MapOptions).onProgress ?? undefined;
  return { chunksize, timeoutMs, signal, callbacks, onProgress };
}

/** The error an aborted call fails with; `cause` is the signal's reason. */
export function abortError(signal: AbortSignal): AbortError {
  return new AbortError('The task was aborted', { cause: signal.reason });
}

/**
 * Reports the error of a caller's own function (a callback, a listener, `onProgress`) as Node
 * reports a throwing listener, as an uncaught exception, on a later microtask: the pool's own
 * step goes on to its end, rather than stop half-way or swallow the caller's bug.
 */
export function reportLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/** Calls `listener` once when `signal` aborts; returns what stops listening. */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}
