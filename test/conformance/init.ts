/**
 * initializer, initargs and maxtasksperchild (CPython: _TestPoolWorkerLifetime, and the
 * initializer tests of _TestPool's siblings).
 */
import { AbortError, InitializerError, Pool, PoolStateError, TimeoutError, type ContextName } from '@mpool/pool';
import { within } from '../robustness/support';
import { asyncInit, exitWith, failingInit, init, initState, neverReady, spinForever, sqr, throwHostile, workerId, type InitState } from './fixtures';
import { fileWritten, range, rejectionOf, squares, useGates, usePools } from './helpers';

/**
 * The pool's timeout in the tests of initializers that never finish: ample for loading the
 * initializer's module, and it is paid three times before the pool gives up.
 */
const INIT_TIMEOUT_MS = 250;
/** A bound on close() and join() once nothing is left to wait for: past it, they hang. */
const SETTLE_LIMIT_MS = 10_000;

/** How many results each worker produced. */
function countByWorker(ids: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

async function statesOf(pool: Pool, tasks: number): Promise<InitState[]> {
  return Promise.all(range(tasks).map(() => pool.applyAsync(initState).get()));
}

export function initTests(context: ContextName): void {
  describe('initializer and initargs', () => {
    const newPool = usePools(context);

    test('the initializer runs once in every worker, with initargs, before its first task', async () => {
      const pool = newPool({ processes: 2, initializer: init, initargs: ['config', { level: 3 }] });
      const states = await statesOf(pool, 20);
      for (const state of states) expect(state.record).toEqual({ args: ['config', { level: 3 }], runs: 1 });
    });

    test('an async initializer is awaited before the first task', async () => {
      const pool = newPool({ processes: 2, initializer: asyncInit, initargs: [7] });
      for (const state of await statesOf(pool, 6)) expect(state.record).toEqual({ args: [7], runs: 1 });
    });

    test('without initargs the initializer is called with no arguments', async () => {
      const pool = newPool({ processes: 1, initializer: init });
      expect((await pool.apply(initState)).record).toEqual({ args: [], runs: 1 });
    });

    test('the initializer can be a plain function', async () => {
      const pool = newPool({
        processes: 2,
        initializer: function (tag: string) {
          (globalThis as { tag?: string }).tag = tag;
        },
        initargs: ['tagged'],
      });
      expect(await pool.map((_: number) => (globalThis as { tag?: string }).tag, range(6), 1)).toEqual(range(6).map(() => 'tagged'));
    });

    test('replacement workers run the initializer too: after maxtasksperchild', async () => {
      const pool = newPool({ processes: 2, maxtasksperchild: 2, initializer: init, initargs: ['again'] });
      const states = await statesOf(pool, 12);
      for (const state of states) expect(state.record).toEqual({ args: ['again'], runs: 1 });
      expect(countByWorker(states.map((state) => state.worker)).size).toBeGreaterThanOrEqual(6);
    });

    test('replacement workers run the initializer too: after a crash', async () => {
      const pool = newPool({ processes: 1, initializer: init, initargs: ['after crash'] });
      const before = await pool.apply(initState);
      await expect(pool.apply(exitWith, [1])).rejects.toHaveProperty('name', 'WorkerCrashedError');
      const after = await pool.apply(initState);
      expect(after.worker).not.toBe(before.worker);
      expect(after.record).toEqual({ args: ['after crash'], runs: 1 });
    });

    test('an initializer that keeps throwing fails pending work with InitializerError, and the pool refuses new work', async () => {
      const pool = newPool({ processes: 2, initializer: failingInit, initargs: ['no config'] });
      const pending = [pool.applyAsync(sqr, [1]), pool.mapAsync(sqr, range(5))];
      const iterator = pool.imap(sqr, range(3));
      for (const result of pending) {
        const error = await rejectionOf(result);
        expect(error).toBeInstanceOf(InitializerError);
        expect(error).toHaveProperty('name', 'InitializerError');
        const { message, cause } = error as Error;
        expect(`${message} ${cause instanceof Error ? cause.message : ''}`).toContain('no config');
      }
      expect(await rejectionOf(iterator.next())).toBeInstanceOf(InitializerError);
      let refusal: unknown;
      try {
        pool.applyAsync(sqr, [2]);
      } catch (error) {
        refusal = error;
      }
      expect(refusal).toBeInstanceOf(PoolStateError);
      expect((refusal as Error).cause).toBeInstanceOf(InitializerError);
      await expect(pool.apply(sqr, [3])).rejects.toBeInstanceOf(PoolStateError);
      await expect(pool.map(sqr, [3])).rejects.toBeInstanceOf(PoolStateError);
      expect(() => pool.imap(sqr, [3])).toThrow(PoolStateError);
    });

    test.each([
      ['a Proxy whose traps throw', 'proxy', /could not be read: a Proxy \(reading it threw Error: getter proxy\)/],
      ['an error whose message getter throws', 'message', /message of this error could not be read: reading it threw Error: getter message/],
    ])('an initializer that throws %s fails with an InitializerError that describes it', async (_, kind, words) => {
      const pool = newPool({ processes: 1, initializer: throwHostile, initargs: [kind] });
      const error = await rejectionOf(pool.apply(sqr, [1]));
      expect(error).toBeInstanceOf(InitializerError);
      expect((error as Error).message).toMatch(words);
    });
  });

  describe('initializers that never finish', () => {
    const newPool = usePools(context);
    const newGate = useGates();

    test.each([
      ['never settles', neverReady],
      ['never returns', spinForever],
    ])("an initializer that %s fails its start once it runs past the pool's timeout: after three such starts the work fails with InitializerError, and close() and join() settle", async (_, initializer) => {
      const pool = newPool({ processes: 1, initializer, timeout: INIT_TIMEOUT_MS });
      const error = await rejectionOf(pool.apply(sqr, [2], { timeout: SETTLE_LIMIT_MS }));
      expect(error).toBeInstanceOf(InitializerError);
      expect((error as Error).cause).toBeInstanceOf(TimeoutError);
      expect((error as Error).message).toContain(`initializer ran past the pool's timeout of ${INIT_TIMEOUT_MS} ms`);
      await within(SETTLE_LIMIT_MS, 'close()', pool.close());
      await within(SETTLE_LIMIT_MS, 'join()', pool.join());
    });

    test('close() ends workers stuck in their initializer once no work is left', async () => {
      const stuck = newGate().started('initializer');
      const pool = newPool({ processes: 1, initializer: neverReady, initargs: [stuck] });
      const controller = new AbortController();
      const result = pool.applyAsync(sqr, [2], { signal: controller.signal });
      await fileWritten(stuck);
      const closing = pool.close();
      controller.abort();
      await expect(result.get()).rejects.toBeInstanceOf(AbortError);
      await within(SETTLE_LIMIT_MS, 'close()', closing);
      await within(SETTLE_LIMIT_MS, 'join()', pool.join());
    });
  });

  describe('maxtasksperchild', () => {
    const newPool = usePools(context);

    test('workers are replaced after maxtasksperchild tasks, and every result is right', async () => {
      const pool = newPool({ processes: 2, maxtasksperchild: 3 });
      const first = await Promise.all(range(2).map(() => pool.applyAsync(workerId).get()));
      const results = await Promise.all(range(12).map((i) => pool.applyAsync(sqr, [i]).get()));
      expect(results).toEqual(squares(12));
      const ids = await Promise.all(range(12).map(() => pool.applyAsync(workerId).get()));
      const counts = countByWorker([...first, ...ids]);
      for (const count of counts.values()) expect(count).toBeLessThanOrEqual(3);
      expect(counts.size).toBeGreaterThanOrEqual(5);
      expect(ids.some((id) => first.includes(id))).toBe(false);
    });

    test('with maxtasksperchild 1, every task gets a fresh worker, and close() still finishes them all', async () => {
      const pool = newPool({ processes: 3, maxtasksperchild: 1 });
      const results = range(6).map(() => pool.applyAsync(workerId));
      await pool.close();
      await pool.join();
      const ids = await Promise.all(results.map((result) => result.get(0)));
      expect(new Set(ids).size).toBe(6);
    });

    test('maps give the right results while workers are recycled between chunks', async () => {
      const pool = newPool({ processes: 2, maxtasksperchild: 2 });
      expect(await pool.map(sqr, range(30), 10)).toEqual(squares(30));
      expect(await pool.map(sqr, range(30), 4)).toEqual(squares(30));
    });

    test('null means no limit', async () => {
      const pool = newPool({ processes: 1, maxtasksperchild: null });
      const ids = await Promise.all(range(10).map(() => pool.applyAsync(workerId).get()));
      expect(new Set(ids).size).toBe(1);
    });

    test.each([0, -1, 0.5])('maxtasksperchild %p is refused with RangeError', (maxtasksperchild) => {
      expect(() => new Pool({ processes: 1, maxtasksperchild, context })).toThrow(RangeError);
    });

    test('a maxtasksperchild that is not a number is refused with TypeError', () => {
      expect(() => new Pool({ processes: 1, maxtasksperchild: '12' as unknown as number, context })).toThrow(TypeError);
    });
  });
}
