/** Chunks of numbers as the bytes of a Float64Array: what is packed, and that views stay right. */
import { numberArray } from '../src/map-run.js';
import { InputBuffers, isPackedNumbers, NumberArena, PACK_MIN_LENGTH, packedBytes, packedView, unpackNumbers } from '../src/numbers.js';

const count = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

describe('NumberArena', () => {
  test('abandon() leaves the views packed so far as they are: the next message packs into new space', () => {
    const arena = new NumberArena();
    const first = arena.pack(count(100))!;
    arena.abandon();
    const second = arena.pack(count(100, 500))!;
    expect(second.buffer).not.toBe(first.buffer);
    expect(unpackNumbers(first)).toEqual(count(100));
    expect(unpackNumbers(second)).toEqual(count(100, 500));
  });

  test('packs an array of numbers long enough, exactly', () => {
    const arena = new NumberArena();
    const items = [-0, NaN, Infinity, 0.1, ...count(PACK_MIN_LENGTH)];
    const packed = arena.pack(items);
    expect(isPackedNumbers(packed)).toBe(true);
    const back = unpackNumbers(packed!);
    expect(back).toHaveLength(items.length);
    back.forEach((x, i) => expect(Object.is(x, items[i])).toBe(true));
  });

  test('leaves short arrays and arrays with anything but numbers alone', () => {
    const arena = new NumberArena();
    expect(arena.pack(count(PACK_MIN_LENGTH - 1))).toBeUndefined();
    expect(arena.pack([...count(100), '1'])).toBeUndefined();
    expect(arena.pack([...count(100), 1n])).toBeUndefined();
    expect(arena.pack([...count(100), undefined])).toBeUndefined();
  });

  test('views packed for one message stay intact while the arena grows, until reset', () => {
    const arena = new NumberArena();
    const views = [100, 5000, 20_000, 300].map((n, k) => [arena.pack(count(n, k * 100_000))!, n, k * 100_000] as const);
    for (const [view, n, from] of views) expect(unpackNumbers(view)).toEqual(count(n, from));
    arena.reset();
    const again = arena.pack(count(100, 7))!;
    expect(unpackNumbers(again)).toEqual(count(100, 7));
  });

  test('a chunk bigger than the scratch space it keeps gets a buffer of its own', () => {
    const arena = new NumberArena();
    const huge = count((1 << 20) + 1);
    const a = arena.pack(huge)!;
    const b = arena.pack(count(100))!;
    expect(a.buffer).not.toBe(b.buffer);
    expect(packedView(a)[1 << 20]).toBe(1 << 20);
  });

  test('a packed chunk is a Uint8Array of the numbers\' bytes', () => {
    const packed = new NumberArena().pack(count(100))!;
    expect(isPackedNumbers(packed)).toBe(true);
    expect(packed.byteLength).toBe(800);
    expect(isPackedNumbers(new Float64Array(2))).toBe(false);
    expect(isPackedNumbers([1, 2])).toBe(false);
    expect(isPackedNumbers(undefined)).toBe(false);
  });
});

describe('packedView', () => {
  const numbers = [-0, NaN, Infinity, -Infinity, 0.1, -1.5, 2 ** 53 + 2, ...count(100)];
  const same = (view: Float64Array): void => {
    expect(view).toHaveLength(numbers.length);
    numbers.forEach((x, i) => expect(Object.is(view[i], x)).toBe(true));
  };

  test('reads bytes on an 8-byte boundary in place', () => {
    const bytes = packedBytes(Float64Array.from(numbers));
    const view = packedView(bytes);
    same(view);
    expect(view.buffer).toBe(bytes.buffer);
  });

  test('reads bytes off the boundary, as a message holds them, exactly', () => {
    const message = new Uint8Array(numbers.length * 8 + 3);
    message.set(packedBytes(Float64Array.from(numbers)), 3);
    const bytes = message.subarray(3);
    same(packedView(bytes));
    expect(unpackNumbers(bytes)).toEqual(numbers);
    const big = count(5000).map((i) => i / 3);
    const bigMessage = new Uint8Array(big.length * 8 + 5);
    bigMessage.set(packedBytes(Float64Array.from(big)), 5);
    expect(Array.from(packedView(bigMessage.subarray(5)))).toEqual(big);
  });
});

describe('numberArray', () => {
  test('is a packed array of that many zeros, whatever the length', () => {
    for (const length of [0, 1, 100, 4096, 4097, 10_001]) {
      const out = numberArray(length);
      expect(Array.isArray(out)).toBe(true);
      expect(out).toHaveLength(length);
      expect(out.every((x) => x === 0)).toBe(true);
      expect(Object.keys(out)).toHaveLength(length); // no holes
    }
  });

  test('each call is an array of its own', () => {
    const a = numberArray(10);
    const b = numberArray(5000);
    a[0] = 5;
    b[4999] = -0;
    expect(numberArray(10)[0]).toBe(0);
    expect(Object.is(numberArray(5000)[4999], 0)).toBe(true);
    expect(numberArray(4096)).toHaveLength(4096);
  });
});

describe('InputBuffers', () => {
  test('copies a whole input of numbers, every one exactly', () => {
    const items = [-0, NaN, Infinity, -Infinity, 0.1, 2 ** 53 + 2, ...count(100)];
    const packed = new InputBuffers().pack(items, PACK_MIN_LENGTH);
    expect(packed).toBeInstanceOf(Float64Array);
    expect(Array.from(packed!)).toEqual(items);
    expect(Object.is(packed![0], -0)).toBe(true);
    items[6] = 99;
    expect(packed![6]).toBe(0); // a copy, not a view of the input
  });

  test('leaves alone inputs with anything but numbers, short inputs, and short chunks', () => {
    const buffers = new InputBuffers();
    expect(buffers.pack([...count(100), '1'], PACK_MIN_LENGTH)).toBeUndefined();
    expect(buffers.pack([...count(100), undefined], PACK_MIN_LENGTH)).toBeUndefined();
    expect(buffers.pack(count(PACK_MIN_LENGTH - 1), PACK_MIN_LENGTH)).toBeUndefined();
    expect(buffers.pack(count(1000), PACK_MIN_LENGTH - 1)).toBeUndefined();
  });

  test('a buffer given back serves the next input that fits, and never two at once', () => {
    const buffers = new InputBuffers();
    const first = buffers.pack(count(1000), 100)!;
    const second = buffers.pack(count(1000, 5), 100)!;
    expect(second.buffer).not.toBe(first.buffer);
    buffers.giveBack(first);
    buffers.giveBack(first); // twice changes nothing
    const third = buffers.pack(count(600, 7), 100)!;
    expect(third.buffer).toBe(first.buffer);
    expect(Array.from(third)).toEqual(count(600, 7));
    expect(Array.from(second)).toEqual(count(1000, 5));
    expect(buffers.pack(count(600, 9), 100)!.buffer).not.toBe(first.buffer);
    buffers.giveBack(third);
    expect(buffers.pack(count(2000), 100)!.buffer).not.toBe(first.buffer); // too small for it
  });

  test('keeps no buffer longer than 2 MiB, and no more than two', () => {
    const buffers = new InputBuffers();
    const long = buffers.pack(count((1 << 18) + 1), 100)!;
    buffers.giveBack(long);
    expect(buffers.pack(count((1 << 18) + 1), 100)!.buffer).not.toBe(long.buffer);
    const [a, b, c] = [1, 2, 3].map(() => buffers.pack(count(100), 100)!);
    for (const packed of [a, b, c]) buffers.giveBack(packed!);
    const again = [1, 2, 3].map(() => buffers.pack(count(100), 100)!.buffer);
    expect(again.filter((buffer) => [a!.buffer, b!.buffer, c!.buffer].includes(buffer))).toHaveLength(2);
  });
});
