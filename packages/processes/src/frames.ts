/**
 * How protocol messages cross between the pool and a worker process: framed, on a socket of
 * their own, with memory reused from message to message where the pool reads.
 *
 *   frame     u32le bodyLength, body
 *   body      u32le envelopeLength, envelope, block, block, …
 *   envelope  the message, written by V8's serializer (structured clone, as Node's advanced IPC
 *             serialization: Map, Set, Date, BigInt, typed arrays), where each packed chunk of
 *             numbers (numbers.ts) is only a reference to the next block
 *   block     a packed chunk's bytes, written from where they are, never copied into the envelope
 *
 * Node's own IPC channel allocates for every message it sends (the serializer's output, grown as
 * it is written) and for every read (a fresh buffer, then one more to join a message that came in
 * several reads). In a process that collects garbage rarely, which is any process right after it
 * has had many tasks in flight, that memory is not reused but taken fresh from the system, page by
 * page, at every map. Here a sender writes packed chunks straight from their own memory, and each
 * side reads into one buffer and assembles into another, both reused (`FrameReader` with
 * `reused: true`; a worker falls back to plain reads where it cannot, see child.ts).
 *
 * What a receiver is given in memory that will be reused: a packed chunk arrives as a view of that
 * memory, valid while the message is being handled (the scheduler reads a chunk at once, or copies
 * it; the worker's run loop copies the chunks it cannot run before it waits); any other typed
 * array or Buffer in the message is copied into memory of its own, so what a task returns, or is
 * given, is never overwritten.
 */
import { DefaultDeserializer, DefaultSerializer } from 'node:v8';
import type { Socket } from 'node:net';
import { holdPacked, isOutgoingPacked } from '@mpool/core/worker';

/** Host-object tags of this format, written before Node's own encoding of a view. */
const VIEW = 1;
const PACKED = 2;

/** Bytes before the envelope: the frame's length and the envelope's. */
const PREFIX = 8;

interface HostHooks {
  _writeHostObject(this: DefaultSerializer, view: ArrayBufferView): void;
  _readHostObject(this: DefaultDeserializer): ArrayBufferView;
}
const nodeWriteView = (DefaultSerializer.prototype as unknown as HostHooks)._writeHostObject;
const nodeReadView = (DefaultDeserializer.prototype as unknown as HostHooks)._readHostObject;

class FrameSerializer extends DefaultSerializer {
  readonly blocks: Uint8Array[] = [];
  blockBytes = 0;

  _writeHostObject(view: ArrayBufferView): void {
    if (isOutgoingPacked(view)) {
      this.writeUint32(PACKED);
      this.writeUint32(view.byteLength);
      this.blocks.push(view as Uint8Array);
      this.blockBytes += view.byteLength;
    } else {
      this.writeUint32(VIEW);
      nodeWriteView.call(this, view);
    }
  }
}

/** A message ready to write: the prefix and envelope, then the blocks. */
export interface Frame {
  readonly head: Buffer;
  readonly blocks: readonly Uint8Array[];
}

/** Encodes `message`; throws, as structured clone does, when some value in it cannot be copied. */
export function encodeFrame(message: unknown): Frame {
  const serializer = new FrameSerializer();
  serializer.writeRawBytes(new Uint8Array(PREFIX));
  serializer.writeHeader();
  serializer.writeValue(message);
  const head = serializer.releaseBuffer();
  head.writeUInt32LE(head.length - 4 + serializer.blockBytes, 0);
  head.writeUInt32LE(head.length - PREFIX, 4);
  return { head, blocks: serializer.blocks };
}

/**
 * Writes frames to `socket`, in order. Returns whether everything is written out: `false` while
 * the socket still holds some of it (the peer reads slowly, or the socket is not yet connected),
 * when the blocks' memory must not change until it is.
 */
export function writeFrames(socket: Socket, frames: readonly Frame[]): boolean {
  const many = frames.length > 1 || frames[0]!.blocks.length > 0;
  if (many) socket.cork();
  for (const frame of frames) {
    socket.write(frame.head);
    for (const block of frame.blocks) socket.write(block);
  }
  if (many) socket.uncork();
  return socket.writableLength === 0;
}

/** `frame` was not written out when its send returned: its blocks' memory must stay as it is (holdPacked). */
export function holdBlocks(frame: Frame): void {
  for (const block of frame.blocks) holdPacked(block);
}

/** The read buffer handed to the socket, when the reader's memory is reused. */
export const READ_BUFFER_BYTES = 64 * 1024;

/** Messages up to this long are assembled in the reader's own buffer; longer ones get their own. */
const ASSEMBLY_MAX = 256 * 1024;

class FrameDeserializer extends DefaultDeserializer {
  readonly #body: Uint8Array;
  /** Whether `#body` is memory of its own, never written again; otherwise views are copied. */
  readonly #owned: boolean;
  /** Where the next block starts, in `#body`. */
  #block: number;

  constructor(body: Uint8Array, envelopeLength: number, owned: boolean) {
    super(Buffer.from(body.buffer, body.byteOffset + 4, envelopeLength));
    this.#body = body;
    this.#owned = owned;
    this.#block = 4 + envelopeLength;
  }

  _readHostObject(): ArrayBufferView {
    const tag = this.readUint32();
    if (tag === PACKED) {
      const length = this.readUint32();
      const start = this.#block;
      if (start + length > this.#body.length) throw new Error('mpool process channel: a frame is shorter than its blocks');
      this.#block += length;
      return this.#body.subarray(start, start + length);
    }
    if (tag !== VIEW) throw new Error(`mpool process channel: unknown host object tag ${tag}`);
    const view = nodeReadView.call(this);
    return this.#owned ? view : copyView(view);
  }
}

/** `view` in memory of its own, of the same kind. */
function copyView(view: ArrayBufferView): ArrayBufferView {
  const bytes = new Uint8Array(view.byteLength);
  bytes.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  // The constructor of Node's own realm (Buffer, Float64Array, DataView, …): the same kind back.
  const Kind = view.constructor as new (buffer: ArrayBuffer, offset: number, length: number) => ArrayBufferView;
  const perElement = (view as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
  return new Kind(bytes.buffer, 0, view.byteLength / perElement);
}

/**
 * Reads frames from a byte stream and hands over each message. `reused`: the chunks given to
 * `push` are written over after it returns (a socket's `onread` buffer), so this reader keeps one
 * buffer of its own to assemble messages in, and copies out every view but packed chunks (see
 * the header). Otherwise each chunk is memory of its own, and messages are read where they are.
 */
export class FrameReader {
  readonly #deliver: (message: unknown) => void;
  readonly #reused: boolean;
  /** The body being assembled, how much of it has come, and whether it is memory of its own. */
  #body: Uint8Array | undefined;
  #filled = 0;
  #owned = false;
  /** A length prefix split between two chunks. */
  readonly #prefix = new Uint8Array(4);
  #prefixFilled = 0;
  /** Where bodies are assembled when memory is reused. */
  #assembly = new Uint8Array(0);

  constructor(deliver: (message: unknown) => void, options: { readonly reused: boolean }) {
    this.#deliver = deliver;
    this.#reused = options.reused;
  }

  /** Whether a message has begun and not ended: the stream ended mid-message if it closes now. */
  get midMessage(): boolean {
    return this.#body !== undefined || this.#prefixFilled > 0;
  }

  push(chunk: Uint8Array): void {
    let at = 0;
    const end = chunk.length;
    while (at < end) {
      if (this.#body !== undefined) {
        const take = Math.min(end - at, this.#body.length - this.#filled);
        this.#body.set(chunk.subarray(at, at + take), this.#filled);
        this.#filled += take;
        at += take;
        if (this.#filled === this.#body.length) {
          const body = this.#body;
          this.#body = undefined;
          this.#decode(body, this.#owned);
        }
        continue;
      }
      let length: number;
      if (this.#prefixFilled === 0 && end - at >= 4) {
        length = readU32(chunk, at);
        at += 4;
      } else {
        const take = Math.min(end - at, 4 - this.#prefixFilled);
        this.#prefix.set(chunk.subarray(at, at + take), this.#prefixFilled);
        this.#prefixFilled += take;
        at += take;
        if (this.#prefixFilled < 4) return;
        this.#prefixFilled = 0;
        length = readU32(this.#prefix, 0);
      }
      if (length < 4) throw new Error(`mpool process channel: a frame of ${length} bytes`);
      if (end - at >= length) {
        // The whole message is in this chunk: read it where it is.
        this.#decode(chunk.subarray(at, at + length), !this.#reused);
        at += length;
        continue;
      }
      if (this.#reused && length <= ASSEMBLY_MAX) {
        if (this.#assembly.length < length) this.#assembly = new Uint8Array(Math.min(ASSEMBLY_MAX, Math.max(length, 2 * this.#assembly.length, 4096)));
        this.#body = this.#assembly.subarray(0, length);
        this.#owned = false;
      } else {
        this.#body = new Uint8Array(length);
        this.#owned = true;
      }
      this.#filled = 0;
    }
  }

  #decode(body: Uint8Array, owned: boolean): void {
    const envelopeLength = readU32(body, 0);
    if (4 + envelopeLength > body.length) throw new Error('mpool process channel: a frame is shorter than its envelope');
    const deserializer = new FrameDeserializer(body, envelopeLength, owned);
    deserializer.readHeader();
    this.#deliver(deserializer.readValue());
  }
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16)) + bytes[at + 3]! * 0x1000000;
}
