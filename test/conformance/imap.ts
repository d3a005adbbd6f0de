/**
 * imap and imapUnordered (CPython: test_imap, test_imap_unordered, and their
 * handle_iterable_exception variants), plus what laziness promises: endless inputs and early exits.
 */
import { type ContextName } from '@mpool/pool';
import { asyncSqr, sqr, sqrOrThrow } from './fixtures';
import { asyncRange, byValue, drain, range, SayWhen, squares, throwingGenerator, useSharedPool } from './helpers';

/**
 * Items a lazy imap may hold beyond what was consumed, with room to spare: a window of a few
 * chunks per worker and about a thousand items. An eager imap never gets as far as checking it.
 */
const LAZY_BOUND = 5_000;

/** An endless input that counts how many items were pulled, and notes when it is closed. */
function countedNaturals(): { items: Generator<number>; pulled: () => number; closed: () => boolean } {
  let pulled = 0;
  let closed = false;
  function* naturals(): Generator<number> {
    try {
      for (let i = 0; ; i++) {
        pulled++;
        yield i;
      }
    } finally {
      closed = true;
    }
  }
  return { items: naturals(), pulled: () => pulled, closed: () => closed };
}

export function imapTests(context: ContextName): void {
  describe('imap', () => {
    const pool = useSharedPool(context);

    test('imap yields the results in input order', async () => {
      expect(await drain(pool().imap(sqr, range(10)))).toEqual({ values: squares(10), error: undefined, failed: false });
    });

    test('next() gives one result at a time, then stays done', async () => {
      const iterator = pool().imap(sqr, range(10));
      for (let i = 0; i < 10; i++) expect(await iterator.next()).toEqual({ done: false, value: i * i });
      expect((await iterator.next()).done).toBe(true);
      expect((await iterator.next()).done).toBe(true);
    });

    test.each([1, 3, 100, 2000])('imap keeps the order with chunksize %p', async (chunksize) => {
      expect((await drain(pool().imap(sqr, range(1000), chunksize))).values).toEqual(squares(1000));
    });

    test('chunksize can be given as { chunksize }', async () => {
      expect((await drain(pool().imap(sqr, range(20), { chunksize: 6 }))).values).toEqual(squares(20));
    });

    test('a bad chunksize is refused at once', () => {
      expect(() => pool().imap(sqr, range(3), 0)).toThrow(RangeError);
      expect(() => pool().imapUnordered(sqr, range(3), 2.5)).toThrow(RangeError);
    });

    test('an input that is not iterable is refused at once', () => {
      expect(() => pool().imap(sqr, 7 as unknown as number[])).toThrow(TypeError);
    });

    test('an empty input yields nothing', async () => {
      expect((await drain(pool().imap(sqr, []))).values).toEqual([]);
      expect((await drain(pool().imapUnordered(sqr, []))).values).toEqual([]);
      expect((await drain(pool().imap(sqr, asyncRange(0)))).values).toEqual([]);
    });

    test('imap reads an async iterable, in order', async () => {
      expect((await drain(pool().imap(sqr, asyncRange(30), 4))).values).toEqual(squares(30));
    });

    test('imap runs async task functions', async () => {
      expect((await drain(pool().imap(asyncSqr, range(20), 3))).values).toEqual(squares(20));
    });

    test('leaving the loop over an endless generator stops pulling it, and closes it', async () => {
      const input = countedNaturals();
      const seen: number[] = [];
      for await (const value of pool().imap(sqr, input.items)) {
        seen.push(value);
        if (seen.length === 10) break;
      }
      expect(seen).toEqual(squares(10));
      expect(input.closed()).toBe(true);
      await pool().apply(sqr, [2]); // a round trip, for any pull already under way to end
      const pulledAfterBreak = input.pulled();
      expect(pulledAfterBreak).toBeLessThan(LAZY_BOUND);
      // More work through the pool: nothing pulls the abandoned input any more.
      expect(await pool().map(sqr, range(50))).toEqual(squares(50));
      expect(input.pulled()).toBe(pulledAfterBreak);
    });

    test('an endless async input is pulled lazily too', async () => {
      let pulled = 0;
      async function* naturals(): AsyncGenerator<number> {
        for (let i = 0; ; i++) {
          await null;
          pulled++;
          yield i;
        }
      }
      const seen: number[] = [];
      for await (const value of pool().imapUnordered(sqr, naturals(), 5)) {
        seen.push(value);
        if (seen.length === 25) break;
      }
      expect(seen).toHaveLength(25);
      await pool().apply(sqr, [2]); // a round trip, for any pull already under way to end
      const pulledAfterBreak = pulled;
      expect(pulledAfterBreak).toBeLessThan(LAZY_BOUND);
      expect(await pool().map(sqr, range(50))).toEqual(squares(50));
      expect(pulled).toBe(pulledAfterBreak);
    });

    test('an input that throws at once fails the first next()', async () => {
      const iterator = pool().imap(sqr, throwingGenerator(1, -1), 1);
      await expect(iterator.next()).rejects.toBeInstanceOf(SayWhen);
      expect((await iterator.next()).done).toBe(true);
    });

    test.each([1, 2, 4])('an input error surfaces after the results before it (chunksize %p)', async (chunksize) => {
      const { values, error, failed } = await drain(pool().imap(sqr, throwingGenerator(20, 7), chunksize));
      expect(values).toEqual(squares(7));
      expect(failed).toBe(true);
      expect(error).toBeInstanceOf(SayWhen);
    });

    test.each([1, 3])('a task error ends the iteration at its item, after the results before it (chunksize %p)', async (chunksize) => {
      const iterator = pool().imap(sqrOrThrow, [0, 1, 2, 3, 4, -5, 6, 7, 8, 9], chunksize);
      const { values, error, failed } = await drain(iterator);
      expect(values).toEqual(squares(5));
      expect(failed).toBe(true);
      expect(error).toBeInstanceOf(RangeError);
      expect(error).toHaveProperty('message', 'negative input -5');
      expect((await iterator.next()).done).toBe(true);
    });
  });

  describe('imapUnordered', () => {
    const pool = useSharedPool(context);

    test('imapUnordered yields every result once, in any order', async () => {
      const { values } = await drain(pool().imapUnordered(sqr, range(10)));
      expect(values.sort(byValue)).toEqual(squares(10));
    });

    test.each([1, 7, 100])('imapUnordered yields a permutation of the results with chunksize %p', async (chunksize) => {
      const { values } = await drain(pool().imapUnordered(sqr, range(1000), chunksize));
      expect(values.sort(byValue)).toEqual(squares(1000));
    });

    test('imapUnordered reads an async iterable', async () => {
      const { values } = await drain(pool().imapUnordered(sqr, asyncRange(30), { chunksize: 4 }));
      expect(values.sort(byValue)).toEqual(squares(30));
    });

    test('an input that throws at once fails the first next()', async () => {
      await expect(pool().imapUnordered(sqr, throwingGenerator(1, -1), 1).next()).rejects.toBeInstanceOf(SayWhen);
    });

    test.each([1, 2])('an input error surfaces after the results before it (chunksize %p)', async (chunksize) => {
      const { values, error, failed } = await drain(pool().imapUnordered(sqr, throwingGenerator(20, 7), chunksize));
      expect(values.sort(byValue)).toEqual(squares(7));
      expect(failed).toBe(true);
      expect(error).toBeInstanceOf(SayWhen);
    });

    test('a task error ends the iteration; what came before it are results of other items', async () => {
      const { values, error, failed } = await drain(pool().imapUnordered(sqrOrThrow, [0, 1, 2, -3, 4, 5, 6, 7], 1));
      expect(failed).toBe(true);
      expect(error).toBeInstanceOf(RangeError);
      const expected = [0, 1, 4, 16, 25, 36, 49];
      for (const value of values) expect(expected).toContain(value);
      expect(new Set(values).size).toBe(values.length);
    });
  });
}
