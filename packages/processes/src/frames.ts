/**
 * How protocol messages cross between the pool and a worker process: framed, on a socket of
 * their own, with memory reused from message to message where the pool reads.
 *
 *   frame     u32le bodyLength, body                  a message
 *             u32le (APART_BIT | length), bytes        a buffer travelling apart, for the next message
 *   body      u32le envelopeLength, envelope, block, block, …
 *   envelope  the message, written by V8's serializer (structured clone, as Node's advanced IPC
 *             serialization: Map, Set, Date, BigInt, typed arrays), where each packed chunk of
 *             numbers (numbers.ts) is only a reference to the next block, and each buffer that
 *             travels apart (and each view of one) a reference to it
 *   block     a packed chunk's bytes, written from where they are, never copied into the envelope
 *
 * Buffers travel apart, in frames of their own before their message, when the message moves them
 * (`transfer()`: its transfer list) and when they are big (views of APART_MIN_BYTES or more). A
 * moved buffer is copied once: the sender takes it over as it is (detaching the caller's, as a
 * thread's port does) and writes it from its memory. A big view is copied into a buffer of its own
 * as the serializer would copy it into the envelope. The receiver reads each straight into an
 * ArrayBuffer of its own, and makes the message's views on it. Every view a receiver gets has a
 * buffer of its own, as between threads: `transfer(view, [view.buffer])` in a task moves that
 * view's bytes, not a whole message's. A MessagePort cannot cross between processes: a transfer
 * list that holds one is refused.
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
 * array or Buffer in the message is in memory of its own, so what a task returns, or is given, is
 * never overwritten.
 */
import { DefaultDeserializer, DefaultSerializer } from 'node:v8';
import type { Socket } from 'node:net';
import { isArrayBuffer } from 'node:util/types';
import { holdPacked, isMessagePort, isOutgoingPacked } from '@mpool/core/worker';
import { bytesOf, copyView, viewKind, viewOn } from './views.js';

/** Host-object tags of this format, written before Node's own encoding of a view. */
const VIEW = 1;
const PACKED = 2;
/** A view of a buffer that travels apart: the buffer's index, the view's kind, offset and length. */
const APART_VIEW = 3;

/** Set in a frame's length: the frame is a buffer travelling apart, not a message. Frames are below 2 GiB. */
const APART_BIT = 0x8000_0000;

/**
 * Views this big (that are not moved already) travel apart too: the receiver reads them straight
 * into memory of their own instead of copying them out of the message, and the sender copies
 * them into a buffer of exactly their size instead of an envelope that grows as it is written.
 */
const APART_MIN_BYTES = 64 * 1024;

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
  /** The buffers that travel apart: the transfer list's, then copies of big views. */
  readonly apart: ArrayBuffer[];

  constructor(moved: readonly ArrayBuffer[]) {
    super();
    this.apart = [...moved];
  }

  _writeHostObject(view: ArrayBufferView): void {
    if (isOutgoingPacked(view)) {
      this.writeUint32(PACKED);
      this.writeUint32(view.byteLength);
      this.blocks.push(view as Uint8Array);
      this.blockBytes += view.byteLength;
      return;
    }
    const kind = viewKind(view);
    let index = this.apart.length === 0 || kind === undefined ? -1 : this.apart.indexOf(view.buffer as ArrayBuffer);
    let byteOffset = view.byteOffset;
    if (index === -1 && kind !== undefined && view.byteLength >= APART_MIN_BYTES) {
      index = this.apart.push(bytesOf(view)) - 1;
      byteOffset = 0;
    }
    if (index === -1) {
      this.writeUint32(VIEW);
      nodeWriteView.call(this, view);
      return;
    }
    this.writeUint32(APART_VIEW);
    this.writeUint32(index);
    this.writeUint32(kind as number);
    this.writeUint32(byteOffset);
    this.writeUint32(view.byteLength);
  }
}

/** A message ready to write: the frames of its buffers that travel apart, its prefix and envelope, then the blocks. */
export interface Frame {
  /** Each buffer that travels apart: its frame's prefix, then its bytes. */
  readonly apart: readonly Uint8Array[];
  readonly head: Buffer;
  readonly blocks: readonly Uint8Array[];
}

/** As structured clone throws for what it cannot copy. */
function cloneError(message: string): Error {
  return new DOMException(message, 'DataCloneError');
}

/** A frame's length, checked against what the format can say. */
function frameLength(bytes: number): number {
  if (bytes >= APART_BIT) throw cloneError(`a message or buffer of ${bytes} bytes is more than a worker process's channel carries in one piece (2 GiB)`);
  return bytes;
}

/** The ArrayBuffers of a transfer list; throws for what cannot cross between processes. */
function movedBuffers(transfer: readonly unknown[] | undefined): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  for (const item of transfer ?? []) {
    if (isArrayBuffer(item)) {
      buffers.push(item);
      continue;
    }
    if (isMessagePort(item)) throw cloneError('a MessagePort cannot cross to or from a worker process: ports move between threads only');
    throw cloneError(`only ArrayBuffers move to or from a worker process, not ${Object.prototype.toString.call(item)}`);
  }
  return buffers;
}

/**
 * Encodes `message`, with the buffers of its transfer list moved (copied once, and detached here
 * as a thread's port detaches them); throws, as structured clone does, sending and detaching
 * nothing, when some value in it cannot be copied or moved.
 */
export function encodeFrame(message: unknown, transfer?: readonly unknown[]): Frame {
  const moved = movedBuffers(transfer);
  const serializer = new FrameSerializer(moved);
  serializer.writeRawBytes(new Uint8Array(PREFIX));
  for (let i = 0; i < moved.length; i++) serializer.transferArrayBuffer(i, moved[i]!);
  serializer.writeHeader();
  serializer.writeValue(message);
  const head = serializer.releaseBuffer();
  head.writeUInt32LE(frameLength(head.length - 4 + serializer.blockBytes), 0);
  head.writeUInt32LE(head.length - PREFIX, 4);
  const buffers = serializer.apart;
  for (const buffer of buffers) frameLength(buffer.byteLength);
  // The moved ones are taken over as they are, no copy: the caller's are detached, and the
  // socket writes these. (The copies of big views are this side's own already.)
  if (moved.length > 0) buffers.splice(0, moved.length, ...structuredClone(moved, { transfer: moved }));
  const apart: Uint8Array[] = [];
  for (const buffer of buffers) {
    const prefix = Buffer.allocUnsafe(4);
    prefix.writeUInt32LE((APART_BIT | buffer.byteLength) >>> 0, 0);
    apart.push(prefix, new Uint8Array(buffer));
  }
  return { apart, head, blocks: serializer.blocks };
}

/**
 * Writes frames to `socket`, in order. Returns whether everything is written out: `false` while
 * the socket still holds some of it (the peer reads slowly, or the socket is not yet connected),
 * when the blocks' memory must not change until it is.
 */
export function writeFrames(socket: Socket, frames: readonly Frame[]): boolean {
  const many = frames.length > 1 || frames[0]!.blocks.length > 0 || frames[0]!.apart.length > 0;
  if (many) socket.cork();
  for (const frame of frames) {
    for (const part of frame.apart) socket.write(part);
    socket.write(frame.head);
    for (const block of frame.blocks) socket.write(block);
  }
  if (many) socket.uncork();
  return socket.writableLength === 0;
}

/** All of `frame` in one buffer, in the order `writeFrames` writes it: for one write that must go whole. */
export function frameBytes(frame: Frame): Buffer {
  return Buffer.concat([...frame.apart, frame.head, ...frame.blocks]);
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
  /** Where the next block starts, in `#body`. */
  #block: number;
  /** The buffers that travelled apart for this message, each in memory of its own. */
  readonly #apart: readonly ArrayBuffer[];

  constructor(body: Uint8Array, envelopeLength: number, apart: readonly ArrayBuffer[]) {
    super(Buffer.from(body.buffer, body.byteOffset + 4, envelopeLength));
    this.#body = body;
    this.#block = 4 + envelopeLength;
    this.#apart = apart;
    // The transfer list's come first: the serializer wrote the moved ArrayBuffers by these ids.
    for (let i = 0; i < apart.length; i++) this.transferArrayBuffer(i, apart[i]!);
  }

  _readHostObject(): ArrayBufferView {
    const tag = this.readUint32();
    if (tag === APART_VIEW) {
      const buffer = this.#apart[this.readUint32()];
      const kind = this.readUint32();
      const byteOffset = this.readUint32();
      const byteLength = this.readUint32();
      if (buffer === undefined || byteOffset + byteLength > buffer.byteLength) throw new Error('mpool process channel: a view of a buffer that did not come');
      return viewOn(kind, buffer, byteOffset, byteLength);
    }
    if (tag === PACKED) {
      const length = this.readUint32();
      const start = this.#block;
      if (start + length > this.#body.length) throw new Error('mpool process channel: a frame is shorter than its blocks');
      this.#block += length;
      return this.#body.subarray(start, start + length);
    }
    if (tag !== VIEW) throw new Error(`mpool process channel: unknown host object tag ${tag}`);
    // Copied out of the message (Node's own would view it in place): a buffer of its own.
    return copyView(nodeReadView.call(this));
  }
}

/**
 * Reads frames from a byte stream and hands over each message. `reused`: the chunks given to
 * `push` are written over after it returns (a socket's `onread` buffer), so this reader keeps one
 * buffer of its own to assemble messages in. Otherwise each chunk is memory of its own, and
 * messages are read where they are. Either way every view but a packed chunk is handed over in
 * memory of its own (see the header).
 */
export class FrameReader {
  readonly #deliver: (message: unknown) => void;
  readonly #reused: boolean;
  /** The body being assembled, and how much of it has come. */
  #body: Uint8Array | undefined;
  #filled = 0;
  /** Whether `#body` is a buffer travelling apart rather than a message. */
  #bodyApart = false;
  /** The buffers read apart for the next message. */
  #apart: ArrayBuffer[] = [];
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
    return this.#body !== undefined || this.#prefixFilled > 0 || this.#apart.length > 0;
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
          if (this.#bodyApart) this.#apart.push(body.buffer as ArrayBuffer);
          else this.#decode(body);
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
      if (length >= APART_BIT) {
        // A buffer travelling apart: read straight into an ArrayBuffer of its own, its one copy.
        length -= APART_BIT;
        const buffer = new Uint8Array(length);
        const take = Math.min(end - at, length);
        buffer.set(chunk.subarray(at, at + take));
        at += take;
        if (take === length) {
          this.#apart.push(buffer.buffer);
        } else {
          this.#body = buffer;
          this.#filled = take;
          this.#bodyApart = true;
        }
        continue;
      }
      if (length < 4) throw new Error(`mpool process channel: a frame of ${length} bytes`);
      this.#bodyApart = false;
      if (end - at >= length) {
        // The whole message is in this chunk: read it where it is.
        this.#decode(chunk.subarray(at, at + length));
        at += length;
        continue;
      }
      this.#body = this.#reused && length <= ASSEMBLY_MAX ? this.#assemble(length) : new Uint8Array(length);
      this.#filled = 0;
    }
  }

  /** Room for a body of `length` bytes in the reader's own buffer, grown as needed. */
  #assemble(length: number): Uint8Array {
    if (this.#assembly.length < length) this.#assembly = new Uint8Array(Math.min(ASSEMBLY_MAX, Math.max(length, 2 * this.#assembly.length, 4096)));
    return this.#assembly.subarray(0, length);
  }

  #decode(body: Uint8Array): void {
    const envelopeLength = readU32(body, 0);
    if (4 + envelopeLength > body.length) throw new Error('mpool process channel: a frame is shorter than its envelope');
    const apart = this.#apart;
    if (apart.length > 0) this.#apart = [];
    const deserializer = new FrameDeserializer(body, envelopeLength, apart);
    deserializer.readHeader();
    this.#deliver(deserializer.readValue());
  }
}

function readU32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16)) + bytes[at + 3]! * 0x1000000;
}
