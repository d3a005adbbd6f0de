/**
 * The process channel's frames (frames.ts): every value structured clone carries comes back the
 * same, however the stream is cut; packed chunks travel beside the envelope; buffers a message
 * moves, and big views, travel apart, each read into a buffer of its own; and what the pool's
 * side reads into reused memory is either read at once (packed chunks) or copied (everything else).
 */
import { once } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, createConnection, type Socket } from 'node:net';
import fc from 'fast-check';
import { packedBytes } from '@mpool/core/worker';
import { encodeFrame, FrameReader, writeFrames, type Frame } from '../src/frames.js';

const bytesOf = (frame: Frame): Uint8Array => Buffer.concat([...frame.apart, frame.head, ...frame.blocks]);
const count = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);
const packed = (values: number[]): Uint8Array => packedBytes(Float64Array.from(values));
/** The numbers in packed bytes, read from a copy (a Buffer's slice() would be a view). */
const numbersOf = (bytes: Uint8Array): number[] => Array.from(new Float64Array(new Uint8Array(bytes).buffer));

/** Feeds `stream` to a reader in pieces cut at `cuts`; each piece in memory that is written over after it is pushed, when `reused`. */
function readAll(stream: Uint8Array, cuts: readonly number[], reused: boolean, onMessage?: (message: unknown) => void): unknown[] {
  const out: unknown[] = [];
  const reader = new FrameReader((message) => {
    onMessage?.(message);
    out.push(message);
  }, { reused });
  const scratch = new Uint8Array(stream.length);
  const points = [...new Set([0, ...cuts.filter((c) => c > 0 && c < stream.length), stream.length])].sort((a, b) => a - b);
  for (let i = 1; i < points.length; i++) {
    const piece = stream.subarray(points[i - 1], points[i]);
    if (reused) {
      const at = scratch.subarray(0, piece.length);
      at.set(piece);
      reader.push(at);
      at.fill(0xee); // what a socket's next read does to its buffer
    } else {
      reader.push(new Uint8Array(piece)); // a copy of its own
    }
  }
  expect(reader.midMessage).toBe(false);
  return out;
}

const values = (): unknown[] => [
  1,
  'text',
  [1, 2, 3],
  { a: 1, nested: { b: [true, null, undefined] } },
  new Map<unknown, unknown>([['k', 1], [2, { v: 3 }]]),
  new Set([1, 'two']),
  new Date(1_700_000_000_000),
  123456789012345678901234567890n,
  Float64Array.from([1.5, -0, NaN]),
  Int32Array.from([1, -2, 3]),
  Uint8Array.from([1, 2, 3]),
  Buffer.from('a buffer'),
  new DataView(Uint8Array.from([9, 8, 7]).buffer),
  { error: { name: 'Error', message: 'boom', props: { code: 'E_BOOM' } } },
];

describe.each([false, true])('FrameReader (reused memory: %s)', (reused) => {
  test('gives back every kind of value structured clone carries, cut anywhere', () => {
    const message = [5, 0.25, ...values()];
    const stream = bytesOf(encodeFrame(message));
    for (let cut = 0; cut <= stream.length; cut++) {
      const [back] = readAll(stream, [cut], reused);
      expect(back).toEqual(message);
    }
  });

  test('reads several frames from one chunk, and frames cut in many places', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3000 }), { maxLength: 12 }), (cuts) => {
        const messages = [[1, 0, 7, 1, packed(count(100))], [3], [5, 1, 0, 'x'.repeat(900)], [6, 2, { deep: [1, 2] }]];
        const stream = Buffer.concat(messages.map((m) => bytesOf(encodeFrame(m))));
        const back = readAll(stream, cuts, reused, (message) => {
          // a packed chunk is read while its message is handled
          const m = message as unknown[];
          if (m[0] === 1) expect(numbersOf(m[4] as Uint8Array)).toEqual(count(100));
        });
        expect(back).toHaveLength(4);
        expect(back.slice(1)).toEqual(messages.slice(1));
      }),
    );
  });

  test('a message longer than the assembly buffer arrives whole', () => {
    const big = count(100_000, 0.5);
    const message = [5, 0, 0, packed(big), 0, Float64Array.from(big)];
    const stream = bytesOf(encodeFrame(message));
    const cuts = count(Math.ceil(stream.length / 65536), 0).map((i) => i * 65536);
    readAll(stream, cuts, reused, (back) => {
      const m = back as unknown[];
      expect(numbersOf(m[3] as Uint8Array)).toEqual(big);
      expect(Array.from(m[5] as Float64Array)).toEqual(big);
    });
  });
});

describe.each([false, true])('buffers that travel apart (reused memory: %s)', (reused) => {
  test('a moved buffer is detached on the sending side and arrives whole, its views at their places on it, cut anywhere', () => {
    const buffer = new ArrayBuffer(64);
    const bytes = new Uint8Array(buffer);
    for (let i = 0; i < bytes.length; i++) bytes[i] = i;
    const middle = new Float64Array(buffer, 16, 2);
    const expected = { bytes: Array.from(bytes), middle: Array.from(middle) };
    const frame = encodeFrame([5, 0, 0, bytes, 0, middle, buffer, 'after'], [buffer]);
    expect(buffer.byteLength).toBe(0);
    expect(frame.apart).toHaveLength(2); // its frame's prefix, and its bytes
    const stream = bytesOf(frame);
    for (let cut = 0; cut <= stream.length; cut += 7) {
      const [back] = readAll(stream, [cut, cut + 40], reused) as unknown[][];
      const [, , , gotBytes, , gotMiddle, gotBuffer, after] = back!;
      expect(Array.from(gotBytes as Uint8Array)).toEqual(expected.bytes);
      expect(Array.from(gotMiddle as Float64Array)).toEqual(expected.middle);
      expect((gotMiddle as Float64Array).byteOffset).toBe(16);
      expect((gotBytes as Uint8Array).buffer).toBe(gotBuffer);
      expect((gotMiddle as Float64Array).buffer).toBe(gotBuffer);
      expect((gotBuffer as ArrayBuffer).byteLength).toBe(64);
      expect(after).toBe('after');
    }
  });

  test('big views travel apart and small ones in the message; every view arrives with a buffer of its own', () => {
    const big = Float64Array.from(count(20_000, 0.5));
    const small = Int16Array.from([1, -2, 3]);
    const frame = encodeFrame([5, 0, 0, big, 0, small]);
    expect(big.length).toBe(20_000); // copied, not moved: the caller's stays
    expect(frame.apart[1]!.byteLength).toBe(big.byteLength);
    expect(frame.head.length).toBeLessThan(1000);
    const stream = bytesOf(frame);
    const [back] = readAll(stream, count(Math.ceil(stream.length / 4096)).map((i) => i * 4096), reused) as unknown[][];
    const [gotBig, gotSmall] = [back![3] as Float64Array, back![5] as Int16Array];
    expect(Array.from(gotBig)).toEqual(Array.from(big));
    expect(Array.from(gotSmall)).toEqual([1, -2, 3]);
    for (const view of [gotBig, gotSmall]) {
      expect(view.byteOffset).toBe(0);
      expect(view.buffer.byteLength).toBe(view.byteLength);
    }
  });
});

describe('frames', () => {
  test('a transfer list that holds a MessagePort, or anything but ArrayBuffers, is refused, and nothing is detached', () => {
    const buffer = new ArrayBuffer(8);
    const { port1, port2 } = new MessageChannel();
    try {
      expect(() => encodeFrame([1, port1], [buffer, port1])).toThrow(/a MessagePort cannot cross to or from a worker process: ports move between threads only/);
      expect(() => encodeFrame([1], [buffer, new Uint8Array(2)])).toThrow(/only ArrayBuffers move to or from a worker process, not \[object Uint8Array\]/);
      expect(() => encodeFrame([1, () => 1], [buffer])).toThrow(/could not be cloned/);
      expect(buffer.byteLength).toBe(8);
    } finally {
      port1.close();
      port2.close();
    }
  });

  test('packed chunks travel beside the envelope, and only chunks packed on this side do', () => {
    const chunk = packed(count(1000));
    const own = Uint8Array.from(count(1000, 0).map((x) => x & 255));
    const frame = encodeFrame([5, 0, 0, chunk, 0, own]);
    expect(frame.blocks).toEqual([chunk]);
    expect(frame.blocks[0]).toBe(chunk); // written from where it is
    expect(frame.head.length).toBeLessThan(1000 + 100); // `own` is in the envelope, `chunk` is not
    expect(frame.head.length).toBeGreaterThan(1000);
  });

  test('in reused memory, typed arrays are copies that later reads do not touch; packed chunks are views', () => {
    const message = [5, 0, 0, packed(count(200)), 0, Float64Array.from([1, 2, 3]), 0, Buffer.from('keep me')];
    const [back] = readAll(bytesOf(encodeFrame(message)), [], true, (m) => {
      expect(numbersOf((m as unknown[])[3] as Uint8Array)).toEqual(count(200));
    }) as unknown[][];
    // the chunk pushed was written over after the push: the copies are intact, the view is not
    expect(Array.from(back![5] as Float64Array)).toEqual([1, 2, 3]);
    expect(Buffer.isBuffer(back![7])).toBe(true);
    expect((back![7] as Buffer).toString()).toBe('keep me');
    expect(numbersOf(back![3] as Uint8Array)).not.toEqual(count(200));
  });

  test('a value that cannot be cloned throws before anything is written', () => {
    expect(() => encodeFrame([1, () => 1])).toThrow(/could not be cloned/);
  });

  test('a corrupt stream is an error, not a hang', () => {
    const reader = new FrameReader(() => undefined, { reused: true });
    expect(() => reader.push(Uint8Array.from([2, 0, 0, 0, 0, 0]))).toThrow(/frame of 2 bytes/);
    const frame = bytesOf(encodeFrame([1, packed(count(100))]));
    const cut = frame.subarray(0, frame.length - 8);
    const view = new DataView(cut.buffer, cut.byteOffset);
    view.setUint32(0, cut.length - 4, true); // a body that ends before its block does
    expect(() => new FrameReader(() => undefined, { reused: false }).push(cut)).toThrow(/shorter than its blocks/);
  });

  test('writeFrames says when a socket still holds what it was given, and it all arrives in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpool-frames-'));
    const path = join(dir, 'test.sock');
    const accepted: Socket[] = [];
    const server = createServer((socket) => accepted.push(socket.pause()));
    await once(server.listen(path), 'listening');
    const client = createConnection({ path });
    try {
      await once(client, 'connect');
      expect(writeFrames(client, [encodeFrame([3])])).toBe(true);
      const big = count(1 << 18, 0.5); // 2 MiB: more than a socket buffers while nobody reads
      expect(writeFrames(client, [encodeFrame([5, 0, 0, packed(big)]), encodeFrame([3, 'after'])])).toBe(false);
      while (accepted.length === 0) await once(server, 'connection');
      const received: unknown[] = [];
      const reader = new FrameReader((m) => received.push(m), { reused: false });
      const peer = accepted[0]!;
      peer.on('data', (chunk: Buffer) => reader.push(chunk));
      peer.resume();
      client.end();
      await once(peer, 'end');
      expect(received).toHaveLength(3);
      expect(received[0]).toEqual([3]);
      const numbers = numbersOf((received[1] as unknown[])[3] as Uint8Array);
      expect(numbers).toHaveLength(big.length);
      expect(numbers.every((x, i) => x === big[i])).toBe(true);
      expect(received[2]).toEqual([3, 'after']);
    } finally {
      client.destroy();
      for (const socket of accepted) socket.destroy();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
