/**
 * A Manager lock never stays taken by a task that is gone: `acquire(timeoutMs)` gives up with
 * TimeoutError, a hold taken within a task is released (with a warning) when the task ends,
 * returning or throwing, a wait of a task that ended is dropped, and a hold taken in the
 * initializer lasts as long as its worker.
 */
import { TimeoutError, type SharedLock, type SharedQueue } from '@mpool/pool';
import { rejectionOf, usePools, useSharedPool } from '../conformance/helpers';
import { CONTEXTS, useManagers, WAIT_MS } from './support';

/** How long a wait for a lock that someone else holds lasts: any short time will do, it runs out. */
const GIVE_UP_MS = 20;

/** The code of the warning a task that ends holding a lock causes. */
const LOCK_RELEASED = 'MPOOL_LOCK_RELEASED';

/** The warnings emitted while the tests of the enclosing block run, by their code. */
function useWarnings(): () => string[] {
  let spy: jest.SpyInstance | undefined;
  beforeEach(() => {
    spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => {
    spy?.mockRestore();
  });
  return () => (spy?.mock.calls ?? []).map(([, options]) => (typeof options === 'object' && options !== null ? String((options as { code?: string }).code) : String(options)));
}

/** What the initializer of the `initargs` tests leaves in each worker's global scope. */
interface InitGlobals {
  lock: SharedLock;
}

describe('lock.acquire(timeoutMs) in the parent', () => {
  const managers = useManagers();

  test('rejects with TimeoutError when someone else holds the lock, and leaves it to them', async () => {
    const lock = managers().lock();
    const held = await lock.acquire();
    const error = await rejectionOf(lock.acquire(GIVE_UP_MS));
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(/not acquired within 20 ms/);
    expect(await lock.locked()).toBe(true);
    await held.release();
    expect(await lock.locked()).toBe(false);
    // The wait that gave up is gone: the next acquire gets the lock at once.
    const again = await lock.acquire(GIVE_UP_MS);
    expect(await lock.locked()).toBe(true);
    await again.release();
  });

  test('acquire(0) takes a free lock, and refuses a held one at once', async () => {
    const lock = managers().lock();
    const held = await lock.acquire(0);
    expect(await rejectionOf(lock.acquire(0))).toBeInstanceOf(TimeoutError);
    await held.release();
    await (await lock.acquire(0)).release();
  });

  test('a waiter that gets the lock in time holds it', async () => {
    const lock = managers().lock();
    const held = await lock.acquire();
    const waiting = lock.acquire(WAIT_MS);
    await held.release();
    const next = await waiting;
    expect(await lock.locked()).toBe(true);
    await next.release();
    expect(await lock.locked()).toBe(false);
  });

  test('a timeout that is not a finite number ≥ 0 is refused with TypeError or RangeError', async () => {
    const lock = managers().lock();
    expect(await rejectionOf(lock.acquire('soon' as unknown as number))).toBeInstanceOf(TypeError);
    expect(await rejectionOf(lock.acquire(-1))).toBeInstanceOf(RangeError);
    expect(await rejectionOf(lock.acquire(Infinity))).toBeInstanceOf(RangeError);
    expect(await lock.locked()).toBe(false);
  });
});

describe.each(CONTEXTS)("a Manager lock held by tasks on the '%s' context", (context) => {
  const pool = useSharedPool(context);
  const pools = usePools(context);
  const managers = useManagers();
  const warnings = useWarnings();

  test('acquire(timeoutMs) in a task rejects with TimeoutError while the parent holds the lock, which stays the parent\'s', async () => {
    const lock = managers().lock();
    const held = await lock.acquire();
    const seen = await pool().apply(async (lock: SharedLock, giveUpMs: number) => {
      try {
        await lock.acquire(giveUpMs);
        return 'acquired';
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`;
      }
    }, [lock, GIVE_UP_MS]);
    expect(seen).toMatch(/^TimeoutError: .*not acquired within 20 ms/);
    expect(await lock.locked()).toBe(true);
    await held.release();
    expect(await lock.locked()).toBe(false);
  });

  test('a task that returns holding the lock lets it go when it ends, with a warning', async () => {
    const lock = managers().lock();
    expect(await pool().apply(async (lock: SharedLock) => {
      await lock.acquire();
      return 'returned';
    }, [lock])).toBe('returned');
    const held = await lock.acquire(WAIT_MS);
    await held.release();
    expect(warnings()).toEqual([LOCK_RELEASED]);
  });

  test('a task that throws holding the lock lets it go when it ends, with a warning', async () => {
    const lock = managers().lock();
    const error = await rejectionOf(pool().apply(async (lock: SharedLock) => {
      await lock.acquire();
      throw new RangeError('thrown while holding the lock');
    }, [lock]));
    expect(error).toMatchObject({ name: 'RangeError', message: 'thrown while holding the lock' });
    const held = await lock.acquire(WAIT_MS);
    await held.release();
    expect(warnings()).toEqual([LOCK_RELEASED]);
  });

  test('a task that releases what it acquired causes no warning', async () => {
    const lock = managers().lock();
    await pool().apply(async (lock: SharedLock) => {
      const held = await lock.acquire();
      await held.release();
    }, [lock]);
    expect(await lock.locked()).toBe(false);
    expect(warnings()).toEqual([]);
  });

  test('a task that ends while waiting for the lock is not given it', async () => {
    const manager = managers();
    const lock = manager.lock();
    const signals = manager.queue<string>();
    const held = await lock.acquire();
    expect(await pool().apply(async (lock: SharedLock, signals: SharedQueue<string>) => {
      void lock.acquire(); // never awaited: the task returns while it waits
      await signals.put('waiting');
      return 'returned';
    }, [lock, signals])).toBe('returned');
    expect(await signals.getNowait()).toBe('waiting');
    await held.release();
    expect(await lock.locked()).toBe(false);
    expect(warnings()).toEqual([]);
  });

  test("a task that returns holding its worker's lock from initargs lets it go when it ends, with a warning", async () => {
    const lock = managers().lock();
    const oneWorker = pools({
      processes: 1,
      initializer: (lock: SharedLock) => {
        (globalThis as unknown as InitGlobals).lock = lock;
      },
      initargs: [lock],
    });
    const keepLock = async (): Promise<boolean> => {
      await (globalThis as unknown as InitGlobals).lock.acquire();
      return (globalThis as unknown as InitGlobals).lock.locked();
    };
    expect(await oneWorker.apply(keepLock)).toBe(true);
    expect(await lock.locked()).toBe(false);
    expect(warnings()).toEqual([LOCK_RELEASED]);
    // The same worker takes it again through the same proxy.
    expect(await oneWorker.apply(keepLock)).toBe(true);
    expect(warnings()).toEqual([LOCK_RELEASED, LOCK_RELEASED]);
  });

  test('a hold taken by the initializer lasts as long as its worker', async () => {
    const lock = managers().lock();
    const oneWorker = pools({
      processes: 1,
      initializer: async (lock: SharedLock) => {
        await lock.acquire();
      },
      initargs: [lock],
    });
    expect(await oneWorker.apply((x: number) => x, [1])).toBe(1);
    expect(await lock.locked()).toBe(true);
    expect(await rejectionOf(lock.acquire(GIVE_UP_MS))).toBeInstanceOf(TimeoutError);
    await oneWorker.terminate();
    const held = await lock.acquire(WAIT_MS);
    await held.release();
    expect(warnings()).toEqual([]);
  });
});
