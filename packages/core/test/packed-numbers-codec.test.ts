/** The packed numbers codec on the pool's side, alone: what it packs, what it reuses, and when it must not. */
import type { WorkerHandle } from '../src/executor.js';
import { PackedNumbersCodec } from '../src/codecs/packed-numbers.js';
import { holdPacked, isPackedNumbers, PACK_MIN_LENGTH, packedView } from '../src/numbers.js';
import { RunMode } from '../src/wire.js';

const count = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

/** A handle that keeps every message it is sent; `holds`: its transport has not written them out when send returns. */
function handle(holds: boolean): WorkerHandle & { readonly sent: unknown[][] } {
  const sent: unknown[][] = [];
  return {
    id: 1,
    sent,
    send(message) {
      sent.push(message);
      if (holds) for (const value of message) if (isPackedNumbers(value)) holdPacked(value);
    },
    terminate: () => Promise.resolve(),
    ref: () => undefined,
    unref: () => undefined,
  };
}

describe('a map’s input', () => {
  test('of numbers in chunks long enough is packed once, its chunks views of it; anything else is sliced', () => {
    const codec = new PackedNumbersCodec();
    const input = codec.splitMap(1, RunMode.Map, count(200), 100);
    const first = input.chunk(0, 100);
    expect(isPackedNumbers(first)).toBe(true);
    expect(Array.from(packedView(first as Uint8Array))).toEqual(count(100));
    expect((first as Uint8Array).buffer).toBe((input.chunk(100, 200) as Uint8Array).buffer);
    expect(codec.splitMap(1, RunMode.Map, count(200), PACK_MIN_LENGTH - 1).chunk(0, 2)).toEqual([0, 1]);
    expect(codec.splitMap(1, RunMode.Map, [...count(199), 'x'], 100).chunk(100, 102)).toEqual([100, 101]);
    expect(codec.splitMap(1, RunMode.Starmap, count(200).map((x) => [x]), 100).chunk(0, 1)).toEqual([[0]]);
  });

  test('once a map is done, its buffer serves the next map', () => {
    const codec = new PackedNumbersCodec();
    const first = codec.splitMap(1, RunMode.Map, count(200), 100);
    const buffer = (first.chunk(0, 100) as Uint8Array).buffer;
    first.done(true);
    const second = codec.splitMap(1, RunMode.Map, count(150, 7), 100);
    expect((second.chunk(0, 100) as Uint8Array).buffer).toBe(buffer);
    expect(Array.from(packedView(second.chunk(100, 150) as Uint8Array))).toEqual(count(50, 107));
  });

  test('a function whose last map came back as numbers is expected to return numbers again', () => {
    const codec = new PackedNumbersCodec();
    expect(codec.splitMap(1, RunMode.Map, count(10), 5).expectsNumbers).toBe(false);
    codec.splitMap(1, RunMode.Map, count(10), 5).done(true);
    expect(codec.splitMap(1, RunMode.Map, ['a'], 5).expectsNumbers).toBe(true);
    expect(codec.splitMap(2, RunMode.Map, count(10), 5).expectsNumbers).toBe(false);
    codec.splitMap(1, RunMode.Map, count(10), 5).done(false);
    expect(codec.splitMap(1, RunMode.Map, count(10), 5).expectsNumbers).toBe(false);
  });
});

describe('a message', () => {
  test('packs a map chunk of numbers as it is sent, and leaves a task’s arguments and a chunk packed already as they are', () => {
    const codec = new PackedNumbersCodec();
    const packed = codec.encode(RunMode.Map, count(100));
    expect(Array.from(packedView(packed as Uint8Array))).toEqual(count(100));
    expect(codec.encode(RunMode.Map, packed)).toBe(packed);
    const args = count(100);
    expect(codec.encode(RunMode.Apply, args)).toBe(args);
    expect(codec.encode(RunMode.Starmap, [[1], [2]])).toEqual([[1], [2]]);
  });

  test('written out when sent gives its scratch space to the next message', () => {
    const codec = new PackedNumbersCodec();
    const to = handle(false);
    const first = codec.encode(RunMode.Map, count(100)) as Uint8Array;
    codec.post(to, [1, 0, 0, RunMode.Map, first]);
    codec.encode(RunMode.Map, count(100, 1000));
    expect(Array.from(packedView(first))).toEqual(count(100, 1000)); // written over: what the next test shows does not happen while it is held
  });

  test('still held by its transport when sent keeps its packed chunks as they were while the next is packed', () => {
    const codec = new PackedNumbersCodec();
    const to = handle(true);
    const first = codec.encode(RunMode.Map, count(100)) as Uint8Array;
    codec.post(to, [1, 0, 0, RunMode.Map, first]);
    const second = codec.encode(RunMode.Map, count(100, 1000)) as Uint8Array;
    expect(Array.from(packedView(first))).toEqual(count(100));
    expect(Array.from(packedView(second))).toEqual(count(100, 1000));
  });

  test('that could not be sent frees its scratch space, and the error is the caller’s', () => {
    const codec = new PackedNumbersCodec();
    const refusing: WorkerHandle = { ...handle(false), send: () => { throw new Error('gone'); } };
    const first = codec.encode(RunMode.Map, count(100)) as Uint8Array;
    expect(() => codec.post(refusing, [1, 0, 0, RunMode.Map, first])).toThrow('gone');
    codec.encode(RunMode.Map, count(100, 5));
    expect(Array.from(packedView(first))).toEqual(count(100, 5));
  });
});

test('results read back: packed ones as the numbers, in place; arrays as they are', () => {
  const codec = new PackedNumbersCodec();
  const packed = codec.encode(RunMode.Map, count(100, 3));
  expect(Array.from(codec.readResults(packed))).toEqual(count(100, 3));
  const array = ['a', 1];
  expect(codec.readResults(array)).toBe(array);
});
