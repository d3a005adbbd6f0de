/**
 * The process channel's frames (frames.ts): every value structured clone carries comes back the
 * same, however the stream is cut; packed chunks travel beside the envelope; and what the pool's
 * side reads into reused memory is either read at once (packed chunks) or copied (everything else).
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, createConnection, type Socket } from 'node:net';
import fc from 'fast-check';
import { packedBytes } from '@mpool/core/worker';
import { encodeFrame, FrameReader, writeFrames, type Frame } from '../src/frames.js';

const bytesOf = (frame: Frame): Uint8Array => Buffer.concat([frame.head, ...frame.blocks]);
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

describe('frames', () => {
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
