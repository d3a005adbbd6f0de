/**
 * `transfer()`: a marker that asks the pool to move buffers instead of copying them, around a
 * task's argument, a map's item or a task's result. This module is the marker alone, with no
 * imports, so that a task module can load it in a worker for next to nothing
 * (`@mpool/pool/transfer`); the payload codecs recognise it and move what it lists (moves.ts).
 *
 * The marker is a branded object, recognised by a key from the global symbol registry rather
 * than by `instanceof`: a task module may load its own copy of this file (another install of
 * mpool, a bundle), or run in another realm, and its markers must still be known.
 */
import type { MessagePort } from 'node:worker_threads';

/**
 * What `transfer()` lists: `ArrayBuffer`s, and `MessagePort`s (between threads only). Typed as
 * `ArrayBufferLike`, which a typed array's `.buffer` is; a `SharedArrayBuffer`, which workers
 * share as it is, is refused when the task is sent.
 */
export type Transferable = ArrayBufferLike | MessagePort;

/** The brand of a marker, the same symbol in every copy of this module and in every realm. */
const BRAND = Symbol.for('mpool.transfer');

/**
 * A marker's `misplaced` value. Structured clone cannot copy a symbol: a marker deeper inside a
 * payload than mpool looks (see transfer()) makes its task fail with a DataCloneError that says
 * this, instead of arriving as a plain object.
 */
const MISPLACED = Symbol('mpool transfer(): a marker goes around a task argument, a map item or a task result, not inside one');

/** A `transfer()` marker, as the payload codecs read it (its brand and `misplaced` aside). */
export interface TransferMarker {
  readonly value: unknown;
  readonly transferables: readonly unknown[];
}

/**
 * Marks `value` to travel with the buffers in `transferables` moved rather than copied, as
 * `postMessage`'s transfer list does. Give the marker to the pool in place of the value: as an
 * argument (`pool.apply(fn, [transfer(a, [a.buffer])])`), as an item of `map`, `imap` and
 * `imapUnordered`, or among the arguments of a `starmap` item; or return it from a task
 * (`return transfer(out, [out.buffer])`). The value arrives as it is; a marker inside another
 * value (an object's property, say) is not looked for, and fails its task with `DataCloneError`.
 *
 * On `'thread'` the buffers move: those of the pool's side are detached (their `byteLength` is 0)
 * once the task is sent to a worker, and those a task returns once its result is sent back. On
 * `'fork'`, `'spawn'` and `'forkserver'` they are copied once, straight from their memory, and
 * detached on the sending side all the same, so that a program behaves the same on every
 * context; a `MessagePort` cannot cross to a process (`DataCloneError`). On `'bullmq'` they are
 * copied, and stay usable in the pool's process. A task whose arguments moved buffers is never
 * run again by the pool: if its worker dies, it fails with `WorkerCrashedError`.
 *
 * A buffer that cannot be moved (already detached, listed twice, a typed array rather than its
 * `.buffer`, a `SharedArrayBuffer`) fails its own task with `DataCloneError`, naming it; the
 * other tasks go on. In a worker, import it from `@mpool/pool/transfer`, which loads nothing else.
 * @param value what travels: any value structured clone copies.
 * @param transferables the `ArrayBuffer`s (and, between threads, `MessagePort`s) to move.
 * @returns a marker that stands for `value` (and is typed as it), to be given to the pool as it is.
 * @example
 * const image = new Uint8ClampedArray(4096 * 4096 * 4);
 * const blurred = await pool.apply(blur, [transfer(image, [image.buffer])]); // image.byteLength is now 0
 * @example
 * // tasks.mjs, in the worker
 * import { transfer } from '@mpool/pool/transfer';
 * export function render(width, height) {
 *   const pixels = new Uint8ClampedArray(width * height * 4);
 *   // … draw …
 *   return transfer(pixels, [pixels.buffer]);
 * }
 */
export function transfer<T>(value: T, transferables: readonly Transferable[]): T {
  if (!Array.isArray(transferables)) {
    throw new TypeError(`Expected transfer()'s second argument to be an array of ArrayBuffers or MessagePorts, got \`${transferables === null ? 'null' : typeof transferables}\``);
  }
  return Object.freeze({ [BRAND]: true, value, transferables: [...transferables], misplaced: MISPLACED }) as unknown as T;
}

/**
 * Whether `value` is a `transfer()` marker, made by any copy of this module. Guarded: reading a
 * hostile value (a Proxy whose traps throw) must not fail here, where it is only looked at.
 */
export function isTransfer(value: unknown): value is TransferMarker {
  if (typeof value !== 'object' || value === null) return false;
  try {
    return (value as { [BRAND]?: unknown })[BRAND] === true;
  } catch {
    return false;
  }
}
