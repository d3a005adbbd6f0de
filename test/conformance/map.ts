/**
 * map, mapAsync, starmap and starmapAsync (CPython: test_map*, test_starmap*, test_empty_iterable,
 * test_map_handle_iterable_exception, test_map_async_callbacks, test_map_no_failfast).
 */
import { AsyncResult, WorkerCrashedError, type ContextName } from '@mpool/pool';
import { asyncSqr, echo, mul, sqr, sqrOrExit, sqrOrThrow } from './fixtures';
import { asyncRange, range, rejectionOf, SayWhen, squares, throwingGenerator, useSharedPool } from './helpers';

const pairs = (n: number): [number, number][] => range(n).map((i) => [i, n - 1 - i]);
const products = (n: number): number[] => pairs(n).map(([a, b]) => a * b);

export function mapTests(context: ContextName): void {
  describe('map and starmap', () => {
    const pool = useSharedPool(context);

    test('map returns the results in input order', async () => {
      expect(await pool().map(sqr, range(10))).toEqual(squares(10));
    });

    test.each([1, 2, 3, 7, 20, 99, 100, 1000])('map gives the same results with chunksize %p', async (chunksize) => {
      expect(await pool().map(sqr, range(100), chunksize)).toEqual(squares(100));
    });

    test('chunksize can be given as { chunksize }', async () => {
      expect(await pool().map(sqr, range(50), { chunksize: 7 })).toEqual(squares(50));
      expect(await pool().map(sqr, range(50), {})).toEqual(squares(50));
      expect(await pool().starmap(mul, pairs(30), { chunksize: 4 })).toEqual(products(30));
    });

    test.each([1, 2, 3, 5, 7, 8, 9, 15, 17, 31, 33, 63, 65, 101, 257])('the default chunksize maps %p items correctly', async (length) => {
      expect(await pool().map(sqr, range(length))).toEqual(squares(length));
    });

    test('a bad chunksize is refused', async () => {
      await expect(pool().map(sqr, range(3), 0)).rejects.toThrow(RangeError);
      await expect(pool().map(sqr, range(3), -2)).rejects.toThrow(RangeError);
      await expect(pool().map(sqr, range(3), 1.5)).rejects.toThrow(RangeError);
      await expect(pool().map(sqr, range(3), { chunksize: 0 })).rejects.toThrow(RangeError);
      await expect(pool().map(sqr, range(3), '2' as unknown as number)).rejects.toThrow(TypeError);
      expect(() => pool().mapAsync(sqr, range(3), 0)).toThrow(RangeError);
    });

    test('an empty input maps to an empty array, whatever the chunksize', async () => {
      expect(await pool().map(sqr, [])).toEqual([]);
      expect(await pool().map(sqr, [], 1)).toEqual([]);
      expect(await pool().mapAsync(sqr, [], { chunksize: 1 }).get(10_000)).toEqual([]);
      expect(await pool().starmap(mul, [])).toEqual([]);
      expect(await pool().map(sqr, asyncRange(0))).toEqual([]);
    });

    test('map reads any iterable: a generator, a Set, a Map’s keys', async () => {
      function* upTo(n: number): Generator<number> {
        for (let i = 0; i < n; i++) yield i;
      }
      expect(await pool().map(sqr, upTo(12))).toEqual(squares(12));
      expect(await pool().map(sqr, new Set([3, 1, 2]))).toEqual([9, 1, 4]);
      expect(await pool().map(sqr, new Map([[5, 'a'], [6, 'b']]).keys())).toEqual([25, 36]);
    });

    test('map reads an async iterable', async () => {
      expect(await pool().map(sqr, asyncRange(25), 4)).toEqual(squares(25));
      expect(await pool().starmap(mul, (async function* () {
        yield* pairs(6);
      })())).toEqual(products(6));
    });

    test('map refuses an input that is not iterable', async () => {
      await expect(pool().map(sqr, 5 as unknown as number[])).rejects.toThrow(TypeError);
      expect(() => pool().mapAsync(sqr, null as unknown as number[])).toThrow(TypeError);
    });

    test.each([
      ['throws before the first item', 1, -1],
      ['throws before the first item, with more to come', 10, -1],
      ['throws part-way', 10, 3],
    ])('an input that %s makes map reject with its error', async (_, total, when) => {
      const error = await rejectionOf(pool().map(sqr, throwingGenerator(total, when), 1));
      expect(error).toBeInstanceOf(SayWhen);
    });

    test('an iterator whose next() throws makes map reject with that error', async () => {
      const failing: Iterable<number> = {
        [Symbol.iterator]: () => ({
          next: (): IteratorResult<number> => {
            throw new SayWhen('from next()');
          },
        }),
      };
      await expect(pool().map(sqr, failing, 1)).rejects.toBeInstanceOf(SayWhen);
      await expect(pool().mapAsync(sqr, failing).get()).rejects.toBeInstanceOf(SayWhen);
    });

    test('an async iterable that throws makes map reject with its error', async () => {
      async function* failing(): AsyncGenerator<number> {
        yield 1;
        await null;
        throw new SayWhen('async input failed');
      }
      await expect(pool().map(sqr, failing())).rejects.toBeInstanceOf(SayWhen);
    });

    test('the first task error rejects the whole map with that error', async () => {
      const error = await rejectionOf(pool().map(sqrOrThrow, [0, 1, 2, -3, 4, 5, 6, 7], 1));
      expect(error).toBeInstanceOf(RangeError);
      expect(error).toHaveProperty('message', 'negative input -3');
      expect(error).toHaveProperty('code', 'E_NEGATIVE');
    });

    test('when every chunk fails, map rejects with one of the errors, and the pool goes on', async () => {
      const error = await rejectionOf(pool().map(sqrOrThrow, [-1, -2, -3, -4], 1));
      expect(error).toBeInstanceOf(RangeError);
      expect(['negative input -1', 'negative input -2', 'negative input -3', 'negative input -4']).toContain((error as Error).message);
      expect(await pool().map(sqr, range(20))).toEqual(squares(20));
    });

    test('async task functions are awaited item by item', async () => {
      expect(await pool().map(asyncSqr, range(40), 6)).toEqual(squares(40));
    });

    test('starmap spreads each item over the arguments, in input order', async () => {
      expect(await pool().starmap(mul, pairs(10))).toEqual(products(10));
      expect(await pool().starmap(mul, pairs(100), 20)).toEqual(products(100));
      expect(await pool().starmap(echo, [[], [1], [1, 2, 3]])).toEqual([[], [1], [1, 2, 3]]);
    });

    test('starmap rejects an item that is not an argument array with a TypeError', async () => {
      await expect(pool().starmap(mul, [[1, 2], 3 as unknown as [number, number]])).rejects.toThrow(TypeError);
    });
  });

  describe('mapAsync and starmapAsync', () => {
    const pool = useSharedPool(context);

    test('mapAsync returns an AsyncResult of the ordered results', async () => {
      const result = pool().mapAsync(sqr, range(10));
      expect(result).toBeInstanceOf(AsyncResult);
      expect(await result.get()).toEqual(squares(10));
      expect(result.successful()).toBe(true);
    });

    test('mapAsync takes the chunksize as a number or among its options', async () => {
      expect(await pool().mapAsync(sqr, range(30), 4)).toEqual(squares(30));
      expect(await pool().mapAsync(sqr, range(30), { chunksize: 9 })).toEqual(squares(30));
    });

    test('the callback gets the whole result array before wait() resolves', async () => {
      const calls: unknown[] = [];
      const result = pool().mapAsync(sqr, range(5), { chunksize: 2, callback: (values) => calls.push(values), errorCallback: (error) => calls.push(error) });
      await result.wait();
      expect(calls).toEqual([squares(5)]);
    });

    test('the errorCallback gets the task error before wait() resolves', async () => {
      const calls: unknown[] = [];
      const result = pool().mapAsync(sqrOrThrow, [1, -1], { callback: (values) => calls.push(values), errorCallback: (error) => calls.push(error) });
      await result.wait();
      expect(calls).toHaveLength(1);
      expect(calls[0]).toBeInstanceOf(RangeError);
      expect(result.successful()).toBe(false);
    });

    test('the errorCallback gets the input’s own error', async () => {
      const calls: unknown[] = [];
      const result = pool().mapAsync(sqr, throwingGenerator(5, 2), { errorCallback: (error) => calls.push(error) });
      await result.wait();
      expect(calls).toHaveLength(1);
      expect(calls[0]).toBeInstanceOf(SayWhen);
    });

    test('starmapAsync returns the ordered results, with callbacks', async () => {
      const calls: unknown[] = [];
      const result = pool().starmapAsync(mul, pairs(100), { callback: (values) => calls.push(values) });
      expect(await result.get()).toEqual(products(100));
      expect(calls).toEqual([products(100)]);
      expect(await pool().starmapAsync(mul, pairs(12), 5)).toEqual(products(12));
    });

    test('a map whose worker dies rejects with WorkerCrashedError, and the pool maps again', async () => {
      const error = await rejectionOf(pool().mapAsync(sqrOrExit, [1, 2, -9, 4], 1));
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect(error).toHaveProperty('exitCode', 9);
      expect(await pool().map(sqr, range(30))).toEqual(squares(30));
    });
  });
}
