/**
 * Running a chunk: its function on each item in order, the results gathered in an array, and a
 * chunk that stops at an item reported with the results before it (ChunkStop). A codec that
 * gathers results its own way (worker/codecs.ts) falls back on these.
 */
import { RunMode } from '../wire.js';
import type { Callable } from './load-task.js';

/** A chunk that stopped at item `index`; thrown inside the loop, sent as a ChunkFailure. */
export class ChunkStop {
  constructor(readonly index: number, readonly before: unknown[], readonly thrown: unknown) {}
}

/**
 * Whether a caught value is the loop's own ChunkStop. Guarded: `instanceof` on a thrown Proxy
 * runs its traps, which may throw.
 */
export function isChunkStop(value: unknown): value is ChunkStop {
  try {
    return value instanceof ChunkStop;
  } catch {
    return false;
  }
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null
    && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** Finishes a chunk whose item `i` returned a promise: the rest run one after another. */
export async function finishChunk(fn: Callable, mode: RunMode, items: ArrayLike<unknown>, results: unknown[], i: number, pending: PromiseLike<unknown>): Promise<unknown[]> {
  for (;;) {
    try {
      results.push(await pending);
    } catch (thrown) {
      throw new ChunkStop(i, results, thrown);
    }
    if (++i === items.length) return results;
    try {
      const value = mode === RunMode.Map ? fn(items[i]) : fn(...(items[i] as unknown[]));
      pending = isThenable(value) ? value : Promise.resolve(value);
    } catch (thrown) {
      throw new ChunkStop(i, results, thrown);
    }
  }
}

/** Runs items `i` on of a chunk, after `results` (those before `i`). */
export function runFrom(fn: Callable, mode: RunMode, items: ArrayLike<unknown>, results: unknown[], i: number): unknown {
  // Filled by push, never preallocated: a holey array would cross to the pool as a sparse one,
  // key by key, which V8's serializer writes and reads several times slower than a packed array.
  for (; i < items.length; i++) {
    let value: unknown;
    try {
      value = mode === RunMode.Map ? fn(items[i]) : fn(...(items[i] as unknown[]));
    } catch (thrown) {
      throw new ChunkStop(i, results, thrown);
    }
    if (isThenable(value)) return finishChunk(fn, mode, ownItems(items), results, i, value);
    results.push(value);
  }
  return results;
}

/**
 * Items a chunk goes on reading after it has waited: numbers read from memory that may be reused
 * by then (scratch space, or the channel's) are copied.
 */
export function ownItems(items: ArrayLike<unknown>): ArrayLike<unknown> {
  return items instanceof Float64Array ? items.slice() : items;
}
