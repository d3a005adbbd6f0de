/**
 * The worker's side of the payload codecs (codec.ts): structured clone as it is (the default),
 * and packed numbers, for a channel that serializes (the process backend's): a map chunk of
 * numbers arrives as bytes and is read in place, and a chunk's results that are all numbers are
 * written straight into bytes as they come, into scratch space reused from batch to batch. Both
 * replace the `transfer()` markers of the results with their values and post what they list as
 * the message's transfer list (../moves.ts).
 */
import type { WorkerPayloadCodec } from '../codec.js';
import type { WorkerChannel } from '../executor.js';
import { Moves } from '../moves.js';
import { isPackedNumbers, NumberArena, PACK_MIN_LENGTH, packedView } from '../numbers.js';
import { RunMode } from '../wire.js';
import { ChunkStop, finishChunk, isThenable, ownItems, runFrom } from './chunk.js';
import type { Callable } from './load-task.js';

/** Payloads and results as they are: the channel's structured clone copies them, but what `transfer()` moves. */
export class CloneWorkerCodec implements WorkerPayloadCodec {
  readonly lendsPayloads = false;
  /** What moves with the batch of results being built. */
  readonly #moves = new Moves();

  keep(payload: unknown): unknown {
    return payload;
  }

  runChunk(fn: Callable, mode: RunMode.Map | RunMode.Starmap, payload: unknown): unknown {
    return runFrom(fn, mode, payload as ArrayLike<unknown>, [], 0);
  }

  encodeResult(mode: RunMode, value: unknown): unknown {
    return this.#moves.result(mode, value);
  }

  encodeBefore(before: unknown[]): unknown[] {
    return this.#moves.before(before);
  }

  post(channel: WorkerChannel, message: unknown[]): void {
    channel.post(message, this.#moves.take());
  }
}

export interface PackedNumbersOptions {
  /**
   * The channel hands packed chunks over as views of memory it reuses, valid only until its
   * `onMessage` handler returns (a socket reading into a buffer of its own). Default: false.
   */
  readonly lendsPayloads?: boolean;
}

/** Map chunks of numbers as bytes both ways (numbers.ts). */
export class PackedNumbersWorkerCodec implements WorkerPayloadCodec {
  readonly lendsPayloads: boolean;
  /** Scratch space for packed results, free again once the batch holding them is posted. */
  readonly #arena = new NumberArena();
  /** What moves with the batch of results being built. */
  readonly #moves = new Moves();

  constructor(options: PackedNumbersOptions = {}) {
    this.lendsPayloads = options.lendsPayloads === true;
  }

  /** A copy of `payload` when it is a packed chunk. Not `slice()`: a Buffer's (a socket's) is a view of the same memory. */
  keep(payload: unknown): unknown {
    return isPackedNumbers(payload) ? new Uint8Array(payload) : payload;
  }

  runChunk(fn: Callable, mode: RunMode.Map | RunMode.Starmap, payload: unknown): unknown {
    // Packed numbers are read in place, or from scratch space the next packed chunk reuses: the
    // tasks of one chunk are done before the next chunk starts.
    const items = (isPackedNumbers(payload) ? packedView(payload) : payload) as ArrayLike<unknown>;
    if (mode === RunMode.Map && items.length >= PACK_MIN_LENGTH) return runIntoNumbers(fn, items, this.#arena);
    return runFrom(fn, mode, items, [], 0);
  }

  /** A chunk's results of numbers go packed; a map's may be packed already (runIntoNumbers); markers replaced. */
  encodeResult(mode: RunMode, value: unknown): unknown {
    if (mode !== RunMode.Apply && isPackedNumbers(value)) return value;
    return (mode === RunMode.Apply ? undefined : this.#arena.pack(value as unknown[])) ?? this.#moves.result(mode, value);
  }

  encodeBefore(before: unknown[]): unknown[] {
    return this.#moves.before(before);
  }

  /**
   * The scratch space of the batch's packed results is free again once it is posted; a channel
   * that still holds it says so (holdPacked), and the arena then packs into new space.
   */
  post(channel: WorkerChannel, message: unknown[]): void {
    try {
      channel.post(message, this.#moves.take());
    } finally {
      this.#arena.reset();
    }
  }
}

/**
 * A map chunk whose results travel packed: each number is written into the arena as it comes,
 * and the chunk's results are the packed bytes. No array grows item by item: after a worker has
 * sat idle for some seconds, such arrays land on fresh pages, each a page fault (see
 * benchmarks/README.md, "Measurements behind the code"). The first result that is not a number
 * turns the chunk back into an array of what came before.
 */
function runIntoNumbers(fn: Callable, items: ArrayLike<unknown>, arena: NumberArena): unknown {
  const out = arena.reserve(items.length);
  for (let i = 0; i < items.length; i++) {
    let value: unknown;
    try {
      value = fn(items[i]);
    } catch (thrown) {
      throw new ChunkStop(i, numbersBefore(out, i), thrown);
    }
    if (typeof value === 'number') {
      out[i] = value;
      continue;
    }
    const results = numbersBefore(out, i);
    if (isThenable(value)) return finishChunk(fn, RunMode.Map, ownItems(items), results, i, value);
    results.push(value);
    return runFrom(fn, RunMode.Map, items, results, i + 1);
  }
  return arena.seal(out);
}

/** The first `n` numbers of `out`, as an array. */
function numbersBefore(out: Float64Array, n: number): unknown[] {
  const results: unknown[] = [];
  for (let i = 0; i < n; i++) results.push(out[i]);
  return results;
}
