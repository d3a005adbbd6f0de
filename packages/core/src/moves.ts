/**
 * Moved buffers, as every payload codec handles them (codec.ts). A codec's `encode` (a task's
 * arguments, a chunk's items or a starmap item's arguments) and `encodeResult` (a task's result, a
 * chunk's results) replace the `transfer()` markers (transfer.ts) among those values with the
 * values themselves, and note what the markers list; `post` hands that over as the message's
 * transfer list, and the next message starts a list of its own:
 *
 *   encode / encodeResult ─▶ Moves.payload() / result(): markers out, transferables checked and noted
 *   post ─▶ Moves.take(): the transfer list ─▶ WorkerHandle.send / WorkerChannel.post(message, list)
 *
 * What cannot be moved is caught when it is noted, before anything is sent: a buffer already
 * detached (postMessage would send it as an empty one without a word), listed twice, or moved by
 * another task of the same message; a typed array rather than its buffer; a SharedArrayBuffer;
 * anything else but a MessagePort. The payload or result that lists it throws DataCloneError and
 * notes nothing, so that its own task fails and the others of the message go as they are.
 *
 * Markers are looked for where `transfer()` says, one level in: not inside other values, where a
 * marker fails to copy instead (its `misplaced` symbol) and so fails its task.
 */
import { types } from 'node:util';
import type { MessagePort } from 'node:worker_threads';
import { DataCloneError } from './errors.js';
import { isTransfer, type TransferMarker } from './transfer.js';
import { RunMode } from './wire.js';

/** What a message's transfer list holds once checked: ArrayBuffers and MessagePorts. */
export type Movable = ArrayBuffer | MessagePort;

/** Whether `payload` (a task's arguments, or a chunk's items) holds a `transfer()` marker where mpool looks. */
export function holdsTransfer(mode: RunMode, payload: unknown): boolean {
  if (!Array.isArray(payload)) return false;
  for (const item of payload) {
    if (isTransfer(item)) return true;
    if (mode === RunMode.Starmap && Array.isArray(item) && item.some(isTransfer)) return true;
  }
  return false;
}

/** The transfer list of the message being built, and the markers' values put in their place. */
export class Moves {
  /** What moves with the message being built. */
  #list: Movable[] = [];
  /** The same, to find a buffer listed again. */
  readonly #listed = new Set<unknown>();
  /** Movables of the payload or result being encoded, noted only once all of them are checked. */
  #staged: Movable[] = [];

  /**
   * `payload` with its markers replaced by their values (a new array where there were any: the
   * job keeps the markers), their transferables noted. Throws DataCloneError, noting nothing,
   * when one of them cannot be moved.
   */
  payload(mode: RunMode, payload: unknown): unknown {
    if (!Array.isArray(payload)) return payload;
    let out: unknown[] | undefined;
    for (let i = 0; i < payload.length; i++) {
      const item: unknown = payload[i];
      let value = item;
      if (isTransfer(item)) value = this.#stage(item);
      else if (mode === RunMode.Starmap && Array.isArray(item)) value = this.#unwrapArray(item, false);
      if (value !== item) (out ??= payload.slice())[i] = value;
    }
    this.#commit();
    return out ?? payload;
  }

  /**
   * A task's result (`Apply`), or a chunk's results, with its markers replaced by their values
   * (a chunk's array in place: it is the worker's own), their transferables noted. Throws
   * DataCloneError, noting nothing, when one of them cannot be moved.
   */
  result(mode: RunMode, value: unknown): unknown {
    if (mode === RunMode.Apply) {
      if (!isTransfer(value)) return value;
      const inner = this.#stage(value);
      this.#commit();
      return inner;
    }
    return this.results(value);
  }

  /** Results of a chunk (or of its items before the one that failed), their markers replaced in place. */
  results<T>(values: T): T {
    if (!Array.isArray(values)) return values;
    this.#unwrapArray(values, true);
    this.#commit();
    return values;
  }

  /**
   * The results of a chunk's items before the one that failed, markers replaced in place; when
   * what they list cannot be moved, they travel copied instead (the chunk's own error is what its
   * owner hears). Never throws.
   */
  before(values: unknown[]): unknown[] {
    try {
      return this.results(values);
    } catch {
      for (let i = 0; i < values.length; i++) {
        const item: unknown = values[i];
        if (isTransfer(item)) values[i] = item.value;
      }
      return values;
    }
  }

  /** The transfer list of the message built since the last call, or undefined for none; a new list starts. */
  take(): Movable[] | undefined {
    this.#staged = [];
    if (this.#list.length === 0) return undefined;
    const list = this.#list;
    this.#list = [];
    this.#listed.clear();
    return list;
  }

  /** `array` with its markers' values in their place: the same array when `inPlace` or when it has none. */
  #unwrapArray(array: unknown[], inPlace: boolean): unknown[] {
    let out: unknown[] | undefined = inPlace ? array : undefined;
    for (let i = 0; i < array.length; i++) {
      const item: unknown = array[i];
      if (isTransfer(item)) (out ??= array.slice())[i] = this.#stage(item);
    }
    return out ?? array;
  }

  /** Checks a marker's transferables and stages them; its value. */
  #stage(marker: TransferMarker): unknown {
    const { transferables } = marker;
    for (let i = 0; i < transferables.length; i++) {
      const item = transferables[i];
      const problem = this.#problemWith(item);
      if (problem !== undefined) {
        this.#staged = [];
        throw new DataCloneError(`transfer(): item ${i} of the transfer list ${problem}`);
      }
      this.#staged.push(item as Movable);
    }
    return marker.value;
  }

  /** Whether what was staged may be noted; a payload that throws half-way notes nothing. */
  #commit(): void {
    for (const item of this.#staged) {
      this.#list.push(item);
      this.#listed.add(item);
    }
    this.#staged = [];
  }

  /** What is wrong with moving `item`, in words that follow "item N of the transfer list"; undefined when nothing. */
  #problemWith(item: unknown): string | undefined {
    if (this.#staged.includes(item as Movable)) return 'is listed twice';
    if (this.#listed.has(item)) return 'is moved already by another task in the same message';
    if (types.isArrayBuffer(item)) return isDetached(item) ? 'is a detached ArrayBuffer: it was moved before' : undefined;
    if (isMessagePort(item)) return undefined;
    if (types.isSharedArrayBuffer(item)) return 'is a SharedArrayBuffer, which workers share as it is: leave it out of the list';
    if (ArrayBuffer.isView(item)) return `is a ${kindOf(item)}, not an ArrayBuffer: list its .buffer`;
    return `(${kindOf(item)}) cannot be moved: transfer() moves ArrayBuffers and MessagePorts`;
  }
}

/**
 * Whether `value` is a MessagePort, by Node's global class rather than an import of
 * node:worker_threads: a worker process runs this, and loads no module it does not use.
 */
export function isMessagePort(value: unknown): value is MessagePort {
  return typeof value === 'object' && value !== null && value instanceof globalThis.MessagePort;
}

/** Whether `buffer` has been detached (moved away). Node 20's ArrayBuffer has no `detached` yet. */
function isDetached(buffer: ArrayBuffer): boolean {
  if (buffer.byteLength !== 0) return false;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/** A value's kind for a message: `Float64Array`, `Object`, `null`, `number`. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return Object.prototype.toString.call(value).slice(8, -1);
}
