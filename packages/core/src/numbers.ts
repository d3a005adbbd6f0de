/**
 * Chunks of numbers as bytes: what the packed numbers codec (codecs/packed-numbers.ts on the
 * pool's side, worker/codecs.ts on the worker's) is made of. A map over numbers (the commonest
 * map there is) sends arrays of numbers one way and gets arrays of numbers back. Through a
 * serializer (V8's, which a process worker's channel uses), such an array is written and read an
 * element at a time; the same numbers as a Float64Array's bytes are one copy each way. The chunk
 * then travels as the bytes of a Float64Array, in a Uint8Array made by `packedBytes` or an
 * arena, which the process channel writes as they are, beside the message, and hands over as a
 * view of what it read (a Float64Array that does not sit on an 8-byte boundary could not be such
 * a view). The receiver reads them through `packedView`: a worker runs the task over them, a map
 * copies them straight into the array it returns, an imap keeps a copy. A map packs its whole
 * input at once (InputBuffers); other chunks are packed as they are sent (NumberArena).
 *
 * A transport that has not written a packed chunk out by the time its send returns says so
 * (`holdPacked`): the arena that made it leaves that memory alone and packs into new.
 *
 * A Float64Array holds every JavaScript number exactly, -0 and NaN included, so nothing a task
 * can observe changes.
 */

/** Shorter arrays travel as they are: the bytes' own overhead would outweigh the saving. */
export const PACK_MIN_LENGTH = 64;

/** Whether `items` travel packed: all numbers, and enough of them. */
function packable(items: ArrayLike<unknown>): boolean {
  if (items.length < PACK_MIN_LENGTH) return false;
  for (let i = 0; i < items.length; i++) if (typeof items[i] !== 'number') return false;
  return true;
}

/** Scratch space kept between messages, in numbers (8 MiB); a bigger chunk gets its own. */
const ARENA_MAX_KEEP = 1 << 20;

/**
 * Where packed chunks are written while one message is built: one buffer, reused from message to
 * message. Safe because a message is serialized when it is sent, before `reset()`, unless its
 * transport says otherwise (`holdPacked`); views handed out before the buffer grows keep the old
 * buffer alive as long as they need it.
 */
export class NumberArena {
  #buffer = new Float64Array(0);
  #used = 0;

  /** `items` packed in this arena when they are all numbers and there are enough of them. */
  pack(items: ArrayLike<unknown>): Uint8Array | undefined {
    if (!packable(items)) return undefined;
    const view = this.reserve(items.length);
    view.set(items as ArrayLike<number>); // see InputBuffers.pack
    return this.seal(view);
  }

  /** `view`, from `reserve`, written: the packed chunk that travels. */
  seal(view: Float64Array): Uint8Array {
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    outgoing.set(bytes, this);
    return bytes;
  }

  /** Room for `n` numbers in this arena, to be written and sent as `seal` of it. */
  reserve(n: number): Float64Array {
    if (n > ARENA_MAX_KEEP) return new Float64Array(n);
    if (this.#used + n > this.#buffer.length) {
      // Room for twice this message so far: after a few messages, one buffer holds a whole one.
      this.#buffer = new Float64Array(Math.min(ARENA_MAX_KEEP, Math.max(4096, 2 * (this.#used + n))));
      this.#used = 0;
    }
    const view = this.#buffer.subarray(this.#used, this.#used + n);
    this.#used += n;
    return view;
  }

  /** The message that used the packed views has been sent: the space may be written again. */
  reset(): void {
    this.#used = 0;
  }

  /**
   * A message was handed over but not yet written out: its backend still reads the packed
   * views. Leave them alone; the next message packs into new space.
   */
  abandon(): void {
    this.#buffer = new Float64Array(0);
    this.#used = 0;
  }
}

/**
 * Input buffers kept for later maps: how many, and the longest, in numbers (2 MiB), so that an
 * idle pool holds at most 4 MiB of them. A longer map allocates its own: next to the work of a
 * map that long, the fresh memory costs little.
 */
const KEPT_INPUTS = 2;
const KEPT_INPUT_MAX = 1 << 18;

/**
 * Buffers for whole maps' inputs of numbers, reused from one map to the next. A buffer freshly
 * allocated is memory the process has to be given page by page, and the ArrayBuffers a map leaves
 * behind are only freed when V8 next collects; one handed back when its map is done costs
 * neither.
 */
export class InputBuffers {
  readonly #kept: Float64Array[] = [];

  /**
   * The items of a whole map as numbers, when they are all numbers and the map's chunks are long
   * enough to travel packed (the chunks are then views of it); otherwise undefined. A copy, as
   * slices would be: changing the array afterwards changes nothing.
   */
  pack(items: readonly unknown[], chunksize: number): Float64Array | undefined {
    if (chunksize < PACK_MIN_LENGTH || !packable(items)) return undefined;
    const packed = this.#take(items.length);
    // A builtin copy, not a loop: as quick before V8 has optimized this code as after, where a
    // loop is several times slower even optimized (benchmarks/README.md, "Measurements behind the code").
    packed.set(items as readonly number[]);
    return packed;
  }

  /** `packed` (from `pack`) is not needed any more: no chunk of it will be sent again. */
  giveBack(packed: Float64Array): void {
    const whole = new Float64Array(packed.buffer);
    if (whole.length > KEPT_INPUT_MAX || this.#kept.some((kept) => kept.buffer === packed.buffer)) return;
    if (this.#kept.length >= KEPT_INPUTS) this.#kept.shift();
    this.#kept.push(whole);
  }

  /** `n` numbers, from the smallest kept buffer that holds them, or a new one. */
  #take(n: number): Float64Array {
    let best = -1;
    for (let i = 0; i < this.#kept.length; i++) {
      const length = this.#kept[i]!.length;
      if (length >= n && (best < 0 || length < this.#kept[best]!.length)) best = i;
    }
    if (best < 0) return new Float64Array(n);
    const [buffer] = this.#kept.splice(best, 1);
    return buffer!.subarray(0, n);
  }
}

/** Every packed chunk made on this side, until it is dropped, and the arena it is in, if any: see `isOutgoingPacked`. */
const outgoing = new WeakMap<Uint8Array, NumberArena | undefined>();

/** A packed chunk as it travels: the bytes of `view`, in place (memory of no arena's). */
export function packedBytes(view: Float64Array): Uint8Array {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  outgoing.set(bytes, undefined);
  return bytes;
}

/**
 * The transport has not written `bytes` (a packed chunk, see `isOutgoingPacked`) out by the time
 * its send returned: the memory it views must stay as it is, so the arena that made it packs
 * into new memory from now on.
 */
export function holdPacked(bytes: Uint8Array): void {
  outgoing.get(bytes)?.abandon();
}

/**
 * Whether `value` is a packed chunk that this side made (by `packedBytes`), as opposed to a
 * Uint8Array of a user's: a transport may send such bytes as they are, beside the message, and
 * hand them to the receiver as a view that is valid only while the receiver handles that message
 * (the receiver reads packed chunks at once, or copies them; see `packedView`).
 */
export function isOutgoingPacked(value: ArrayBufferView): boolean {
  return outgoing.has(value as Uint8Array);
}

/**
 * Whether `value` is a packed chunk. Not `instanceof`: the channel's deserializer makes the view
 * in Node's own realm, which is not the caller's when mpool runs inside a `vm` context (jest).
 * (A chunk's payload or results are otherwise always an array, so nothing else is taken for one.)
 */
export function isPackedNumbers(value: unknown): value is Uint8Array {
  return ArrayBuffer.isView(value) && (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'Uint8Array';
}

/** Where unaligned packed chunks are read, reused from chunk to chunk up to this many numbers (2 MiB). */
const READ_SCRATCH_MAX = 1 << 18;
let readScratch = new Float64Array(0);

/**
 * The numbers of a packed chunk: a view of its bytes where they sit on an 8-byte boundary,
 * otherwise a copy in scratch space that the next call writes over. Read it before then.
 */
export function packedView(bytes: Uint8Array): Float64Array {
  const n = bytes.byteLength >>> 3;
  if (bytes.byteOffset % 8 === 0) return new Float64Array(bytes.buffer, bytes.byteOffset, n);
  let into = readScratch;
  if (into.length < n) {
    into = new Float64Array(Math.max(n, 4096, 2 * into.length));
    if (into.length <= READ_SCRATCH_MAX) readScratch = into;
  }
  new Uint8Array(into.buffer, 0, n * 8).set(bytes);
  return into.subarray(0, n);
}

/** A packed chunk back as an array (packed, not holey, so that it travels on as fast). */
export function unpackNumbers(bytes: Uint8Array): number[] {
  return numbersToArray(packedView(bytes));
}

/** Numbers as an array, packed, not holey (filled by push), so that it travels on as fast. */
export function numbersToArray(view: Float64Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < view.length; i++) out.push(view[i]!);
  return out;
}
