/**
 * The packed numbers codec, on the pool's side: a map chunk of numbers travels as the bytes of a
 * Float64Array (numbers.ts), and comes back so when its results are all numbers. For a channel
 * that serializes its messages, as the process backend's does: there such an array is written
 * and read an element at a time, and its bytes in one copy. Not for a thread's port, whose
 * structured clone copies arrays of numbers quickly and would copy a view's whole buffer.
 *
 * A map of numbers is packed whole when it is called, into a buffer reused from map to map; other
 * chunks are packed as they are sent, into scratch space reused from message to message. Buffers
 * that `transfer()` moves go in the message's transfer list (moves.ts), which the process channel
 * writes beside it. See worker/codecs.ts for the worker's side.
 */
import type { ChunkValues, MapInput, PayloadCodec } from '../codec.js';
import type { WorkerHandle } from '../executor.js';
import { holdsTransfer, Moves } from '../moves.js';
import { InputBuffers, isPackedNumbers, NumberArena, packedBytes, packedView } from '../numbers.js';
import { RunMode } from '../wire.js';
import { SlicedInput } from './clone.js';

/** A map's chunks as views of its input, packed whole. */
class PackedInput implements MapInput {
  readonly #codec: PackedNumbersCodec;
  readonly #fnId: number;
  readonly #packed: Float64Array;
  readonly expectsNumbers: boolean;

  constructor(codec: PackedNumbersCodec, fnId: number, packed: Float64Array, expectsNumbers: boolean) {
    this.#codec = codec;
    this.#fnId = fnId;
    this.#packed = packed;
    this.expectsNumbers = expectsNumbers;
  }

  chunk(start: number, end: number): unknown {
    return packedBytes(this.#packed.subarray(start, end));
  }

  done(numbers: boolean): void {
    this.#codec.mapDone(this.#fnId, numbers, this.#packed);
  }
}

/** A map's chunks as slices of its items, which were not all numbers, or too few a chunk. */
class UnpackedInput extends SlicedInput {
  readonly #codec: PackedNumbersCodec;
  readonly #fnId: number;
  override readonly expectsNumbers: boolean;

  constructor(codec: PackedNumbersCodec, fnId: number, items: readonly unknown[], expectsNumbers: boolean) {
    super(items);
    this.#codec = codec;
    this.#fnId = fnId;
    this.expectsNumbers = expectsNumbers;
  }

  override done(numbers: boolean): void {
    this.#codec.mapDone(this.#fnId, numbers, undefined);
  }
}

export class PackedNumbersCodec implements PayloadCodec {
  /** Scratch space for chunks packed as they are sent, reused by every message. */
  readonly #arena = new NumberArena();
  /** Whole maps' inputs of numbers, reused from map to map. */
  readonly #inputs = new InputBuffers();
  /** Functions whose last map came back as numbers, by id. */
  readonly #returnedNumbers = new Set<number>();
  /** What moves with the message being built. */
  readonly #moves = new Moves();

  splitMap(fnId: number, mode: RunMode.Map | RunMode.Starmap, items: readonly unknown[], chunksize: number): MapInput {
    const expectsNumbers = this.#returnedNumbers.has(fnId);
    const packed = mode === RunMode.Map ? this.#inputs.pack(items, chunksize) : undefined;
    return packed === undefined ? new UnpackedInput(this, fnId, items, expectsNumbers) : new PackedInput(this, fnId, packed, expectsNumbers);
  }

  /** A map is done: whether its function returned numbers, and the buffer of its input, which may serve another. */
  mapDone(fnId: number, numbers: boolean, packed: Float64Array | undefined): void {
    if (numbers) this.#returnedNumbers.add(fnId);
    else this.#returnedNumbers.delete(fnId);
    if (packed !== undefined) this.#inputs.giveBack(packed);
  }

  /** A map chunk of numbers packed; a chunk the map packed when called goes as it is; markers replaced. */
  encode(mode: RunMode, payload: unknown): unknown {
    if (isPackedNumbers(payload)) return payload;
    return (mode === RunMode.Map ? this.#arena.pack(payload as unknown[]) : undefined) ?? this.#moves.payload(mode, payload);
  }

  sendsOnce(mode: RunMode, payload: unknown): boolean {
    return holdsTransfer(mode, payload);
  }

  /**
   * The scratch space of the message's packed chunks is free again once it is sent (or was
   * never sent); a transport that still holds it says so (holdPacked), and the arena then packs
   * into new space.
   */
  post(handle: WorkerHandle, message: unknown[]): void {
    try {
      handle.send(message, this.#moves.take());
    } finally {
      this.#arena.reset();
    }
  }

  /** Packed results are read in place, or from scratch space the next chunk reuses. */
  readResults(value: unknown): ChunkValues {
    return isPackedNumbers(value) ? packedView(value) : (value as ChunkValues);
  }
}
