/**
 * The scheduler and the real worker run loop together, in this process, over the fake backend's
 * in-memory channel (every message copied, delivered on a later turn of the event loop). Tasks
 * are plain functions: jest cannot import() task modules in its own process.
 */
import { DataCloneError, InitializerError, WorkerCrashedError } from '@mpool/core';
import { MessageKind } from '../src/wire.js';
import { useFakePools } from './pool-harness.js';

const fakePool = useFakePools();
const live = { live: true } as const;

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

describe('the run loop behind the scheduler', () => {
  test('apply, map and starmap return what the functions compute, in input order', async () => {
    const { pool } = fakePool(2, live);
    expect(await pool.apply((a: number, b: number) => a * b, [6, 7])).toBe(42);
    expect(await pool.map((x: number) => x * x, range(50), 4)).toEqual(range(50).map((x) => x * x));
    expect(await pool.starmap((a: number, b: number) => a - b, [[5, 1], [9, 3]])).toEqual([4, 6]);
  });

  test('async functions are awaited, and many tasks in flight settle in order', async () => {
    const { pool } = fakePool(2, live);
    const results = range(30).map((x) => pool.applyAsync(async (y: number) => {
      await Promise.resolve();
      return y + 1;
    }, [x]));
    expect(await Promise.all(results)).toEqual(range(30).map((x) => x + 1));
  });

  test('a task’s error comes back with its class, message and own properties', async () => {
    const { pool } = fakePool(1, live);
    const fail = (code: string): never => {
      throw Object.assign(new RangeError('out of range'), { code });
    };
    const error: unknown = await pool.apply(fail, ['E_RANGE']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect(error).toMatchObject({ message: 'out of range', code: 'E_RANGE' });
  });

  test('a map stops at the first failing item and rejects with its error', async () => {
    const { pool } = fakePool(1, live);
    const check = (x: number): number => {
      if (x === 7) throw new TypeError('seven');
      return x;
    };
    await expect(pool.map(check, range(20), 5)).rejects.toThrow(new TypeError('seven'));
  });

  test('a result that cannot be copied back fails only its task, with DataCloneError', async () => {
    const { pool } = fakePool(1, live);
    const make = (kind: string): unknown => (kind === 'fn' ? () => 0 : kind);
    const results = ['a', 'fn', 'b'].map((kind) => pool.applyAsync(make, [kind]));
    expect(await results[0]).toBe('a');
    await expect(results[1].get()).rejects.toBeInstanceOf(DataCloneError);
    expect(await results[2]).toBe('b');
  });

  test('the initializer runs before the first task of every worker', async () => {
    const { pool, executor } = fakePool({
      processes: 1,
      initializer: () => {
        (globalThis as Record<string, unknown>).mpoolLiveInitialized = ((globalThis as Record<string, unknown>).mpoolLiveInitialized as number | undefined ?? 0) + 1;
      },
    }, live);
    try {
      const read = (): unknown => (globalThis as Record<string, unknown>).mpoolLiveInitialized;
      expect(await pool.apply(read)).toBe(1);
      expect(executor.workers).toHaveLength(1);
    } finally {
      delete (globalThis as Record<string, unknown>).mpoolLiveInitialized;
    }
  });

  test('an initializer that always throws breaks the pool with InitializerError', async () => {
    const { pool, executor } = fakePool({
      processes: 1,
      initializer: () => {
        throw new Error('cannot connect');
      },
    }, live);
    const error: unknown = await pool.apply((x: number) => x, [1]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InitializerError);
    expect((error as Error).message).toMatch(/cannot connect/);
    expect(executor.workers).toHaveLength(3);
  });

  test('a worker that dies mid-task fails that task and its replacement runs the next', async () => {
    const { pool, executor } = fakePool(1, live);
    const hang = (): Promise<never> => new Promise<never>(() => undefined);
    const hung = pool.applyAsync(hang);
    await executor.workers[0].received(MessageKind.Run);
    executor.workers[0].exit(5);
    await expect(hung.get()).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(await pool.apply((x: number) => x + 1, [1])).toBe(2);
    expect(executor.workers).toHaveLength(2);
  });

  test('close() lets the workers finish, stop and exit on their own', async () => {
    const { pool, executor } = fakePool(2, live);
    const mapped = pool.map((x: number) => x * 3, range(10), 1);
    await pool.close();
    expect(await mapped).toEqual(range(10).map((x) => x * 3));
    expect(executor.alive).toEqual([]);
    expect(executor.workers.map((w) => w.exitInfo?.code)).toEqual([0, 0]);
    expect(executor.workers.every((w) => w.sent[w.sent.length - 1][0] === MessageKind.Stop)).toBe(true);
  });
});
