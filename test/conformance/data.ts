/**
 * What crosses between the pool and its workers: anything structured cloning copies, both ways;
 * an argument or result that cannot be copied fails its own task only (CPython:
 * test_map_unplicklable, test_unpickleable_result).
 */
import { DataCloneError, MpoolError, type ContextName } from '@mpool/pool';
import { describeArrival, describeTypes, floatsFrom, identity, makeCloneables, returnFunction, sqr } from './fixtures';
import { kindOf, range, rejectionOf, squares, useSharedPool } from './helpers';

function cloneables(): Record<string, unknown> {
  return {
    map: new Map<unknown, unknown>([['a', 1], [2, { nested: new Set(['deep']) }]]),
    set: new Set([1, 'two', 3n]),
    date: new Date(Date.UTC(1999, 11, 31, 23, 59, 59)),
    big: -(2n ** 80n),
    bytes: new Uint8Array([1, 2, 3]),
    ints: new Int32Array([-1, 0, 2 ** 31 - 1]),
    floats: new Float64Array([Math.PI, -0.5]),
    buffer: new Uint8Array([9, 8, 7]).buffer,
    regexp: /x+y/m,
    special: [NaN, Infinity, -Infinity, undefined, null, -0],
    nested: { list: [{ deeper: [1, [2, [3]]] }], empty: {} },
  };
}

export function dataTests(context: ContextName): void {
  describe('data crossing to and from workers', () => {
    const pool = useSharedPool(context);

    test('structured-clone values survive the round trip: Map, Set, Date, BigInt, typed arrays, nested objects', async () => {
      const sent = cloneables();
      const back = (await pool().apply(identity, [sent])) as Record<string, unknown>;
      expect(back).toEqual(sent);
      expect(back).not.toBe(sent);
      expect(kindOf(back.map)).toBe('Map');
      expect(kindOf(back.set)).toBe('Set');
      expect(kindOf(back.date)).toBe('Date');
      expect(typeof back.big).toBe('bigint');
      expect(kindOf(back.ints)).toBe('Int32Array');
      expect(kindOf(back.buffer)).toBe('ArrayBuffer');
      expect(Object.is((back.special as unknown[])[5], -0)).toBe(true);
    });

    test('the worker receives real instances, not plain copies', async () => {
      expect(await pool().apply(describeTypes, [cloneables()])).toMatchObject({
        map: '[object Map]',
        set: '[object Set]',
        date: '[object Date]',
        big: '[object BigInt]',
        bytes: '[object Uint8Array]',
        buffer: '[object ArrayBuffer]',
        regexp: '[object RegExp]',
      });
    });

    test('values built in the worker come back as instances', async () => {
      const back = await pool().apply(makeCloneables);
      expect(back).toEqual({
        map: new Map<string, unknown>([['a', 1], ['b', { nested: [1, 2] }]]),
        set: new Set([1, 'two', 3n]),
        date: new Date(Date.UTC(2020, 1, 29, 12, 0, 0)),
        big: 2n ** 70n,
        bytes: new Uint8Array([0, 1, 254, 255]),
        floats: new Float64Array([0.5, -1.25, Number.MAX_VALUE]),
        regexp: /ab+c/gi,
        special: [NaN, Infinity, -Infinity, undefined, null],
      });
    });

    test('map and starmap carry structured-clone items', async () => {
      const items = [new Map([[1, 2]]), new Set([3]), new Date(0), 5n];
      expect(await pool().map(identity, items, 2)).toEqual(items);
    });

    // Long chunks of numbers travel as bytes between processes (numbers.ts): no number may change
    // on the way, either way, whatever the backend.
    const awkward = [-0, 0, NaN, Infinity, -Infinity, 0.1, -1.5, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 2, -(2 ** 31), 7];
    const numbers = range(200).map((i) => awkward[i % awkward.length]! * (i % 3 === 0 ? 1 : -1));

    test('a long chunk of numbers arrives number for number, -0 and NaN included', async () => {
      const arrived = await pool().map(describeArrival, numbers, 100);
      expect(arrived).toEqual(numbers.map((x) => `Number ${Object.is(x, -0) ? '-0' : String(x)}`));
    });

    test('a long chunk of numbers comes back number for number, -0 and NaN included', async () => {
      const back = await pool().map(identity, numbers, 100);
      expect(back).toHaveLength(numbers.length);
      back.forEach((x, i) => expect(Object.is(x, numbers[i])).toBe(true));
      expect(kindOf(back)).toBe('Array');
      const text = (x: unknown): string => (Object.is(x, -0) ? '-0' : String(x));
      const unordered: string[] = [];
      for await (const x of pool().imapUnordered(identity, numbers, 100)) unordered.push(text(x));
      expect(unordered.sort()).toEqual(numbers.map(text).sort());
    });

    test('chunks that come back some as numbers, some not, each land in their place, whichever comes first', async () => {
      // Chunks of numbers come back as bytes and are written straight into the result; the
      // others are arrays. Either kind may be the first to arrive.
      const words = range(300).map((i) => `w${i}`);
      const numbersFirst: unknown[] = [...range(300).map((i) => i * 0.5), ...words];
      const wordsFirst: unknown[] = [...words, ...range(300).map((i) => -i)];
      expect(await pool().map(identity, numbersFirst, 100)).toEqual(numbersFirst);
      expect(await pool().map(identity, wordsFirst, 100)).toEqual(wordsFirst);
    });

    test('a long map of numbers comes back whole, in order, a fresh array each time', async () => {
      const long = range(10_001).map((i) => i * 1.25 - 7);
      const first = await pool().map(identity, long, 1000);
      expect(first).toEqual(long);
      first[0] = 'changed';
      const second = await pool().map(identity, long, 1000);
      expect(second).toEqual(long);
      const short = await pool().map(identity, range(150), 100);
      expect(short).toEqual(range(150));
    });

    test('a map copies its input when called: changing the array afterwards changes nothing', async () => {
      const numbers = range(1000).map((i) => i / 4);
      const words = range(1000).map((i) => `w${i}`);
      const numbersMapped = pool().mapAsync(identity, numbers, 100);
      const wordsMapped = pool().mapAsync(identity, words, 100);
      numbers.fill(-1);
      words.fill('changed');
      expect(await numbersMapped.get()).toEqual(range(1000).map((i) => i / 4));
      expect(await wordsMapped.get()).toEqual(range(1000).map((i) => `w${i}`));
    });

    test('a function that mapped to numbers maps to anything else just as well the next time', async () => {
      // A long map of a function whose last map came back as numbers expects numbers again.
      const count = 20_000;
      expect(await pool().map(identity, range(count), 2500)).toEqual(range(count));
      const words = range(count).map((i) => (i % 3 === 0 ? `w${i}` : i));
      expect(await pool().map(identity, words, 2500)).toEqual(words);
      const objects = range(count).map((i) => ({ i }));
      expect(await pool().map(identity, objects, 2500)).toEqual(objects);
      expect(await pool().map(identity, range(count), 2500)).toEqual(range(count));
    });

    test('a long chunk mixing numbers with other values arrives and comes back as it was', async () => {
      const mixed: unknown[] = [...range(150), 'text', 3n, null, undefined, { n: 1 }, [2], ...range(50)];
      expect(await pool().map(describeArrival, mixed, 1000)).toEqual(mixed.map((x) => (typeof x === 'number' ? `Number ${x}` : kindOf(x))));
      expect(await pool().map(identity, mixed, 1000)).toEqual(mixed);
    });

    test('typed arrays stay typed arrays: as items, as map results and as a task result', async () => {
      const arrays = range(100).map((i) => new Float64Array([i, -i]));
      const arrived = await pool().map(describeArrival, arrays, 100);
      expect(new Set(arrived)).toEqual(new Set(['Float64Array']));
      const back = await pool().map(floatsFrom, range(100), 100);
      expect(back.map(kindOf)).toEqual(range(100).map(() => 'Float64Array'));
      expect(Array.from(back[7]!)).toEqual(range(100).map((i) => 7 + i));
      const one = await pool().apply(floatsFrom, [5, 300]);
      expect(kindOf(one)).toBe('Float64Array');
      expect(one).toHaveLength(300);
      expect(one[299]).toBe(304);
    });

    test('an argument that cannot be copied (a function) fails that task with DataCloneError; the others run', async () => {
      const results = [
        pool().applyAsync(sqr, [2]),
        pool().applyAsync(identity, [{ callback: () => 1 }]),
        pool().applyAsync(sqr, [3]),
      ];
      const error = await rejectionOf(results[1]);
      expect(error).toBeInstanceOf(DataCloneError);
      expect(error).toBeInstanceOf(MpoolError);
      expect(error).toHaveProperty('name', 'DataCloneError');
      expect(await results[0]).toBe(4);
      expect(await results[2]).toBe(9);
    });

    test('a result that cannot be copied (a function) fails that task with DataCloneError; the others run', async () => {
      for (let round = 0; round < 5; round++) {
        const seen: unknown[] = [];
        const before = pool().applyAsync(sqr, [round]);
        const bad = pool().applyAsync(returnFunction, [], { errorCallback: (error) => seen.push(error) });
        const after = pool().applyAsync(sqr, [round + 1]);
        await expect(bad.get()).rejects.toBeInstanceOf(DataCloneError);
        expect(seen).toHaveLength(1);
        expect(seen[0]).toBeInstanceOf(DataCloneError);
        expect(await before).toBe(round * round);
        expect(await after).toBe((round + 1) * (round + 1));
      }
    });

    test('a map with an item that cannot be copied rejects with DataCloneError, and the pool maps again', async () => {
      const items: unknown[] = [1, 2, () => 3, 4];
      await expect(pool().map(identity, items, 1)).rejects.toBeInstanceOf(DataCloneError);
      expect(await pool().map(sqr, range(10))).toEqual(squares(10));
    });

    test('a map whose results cannot be copied rejects with DataCloneError', async () => {
      await expect(pool().map(returnFunction, [1, 2, 3])).rejects.toBeInstanceOf(DataCloneError);
      expect(await pool().map(sqr, range(10), 3)).toEqual(squares(10));
    });
  });
}
