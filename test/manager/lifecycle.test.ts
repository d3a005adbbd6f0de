/**
 * What becomes of shared objects and their proxies over time, on every context: a closed manager
 * answers every call with ManagerClosedError; a worker that dies lets go of the lock it held and
 * of its wait on a queue; proxies are released when their task ends, on both sides of the
 * channel, and those from `initargs` when their worker does.
 */
import { Manager, ManagerClosedError, WorkerCrashedError, type SharedList, type SharedLock, type SharedQueue, type SharedValue } from '@mpool/pool';
import { range, rejectionOf, usePools, useSharedPool, WORKERS } from '../conformance/helpers';
import { CONTEXTS, useManagers, WAIT_MS, watchEndpoints } from './support';

/** Where a task that keeps a proxy past its end puts it. */
interface Stash {
  stashed?: SharedValue<number>;
}

/** What a worker caught, as plain data that travels back. */
interface Caught {
  isError: boolean;
  name: string;
  message: string;
}

describe('a closed manager', () => {
  test('refuses to make shared objects with ManagerClosedError, and closing again is harmless', async () => {
    const manager = new Manager();
    expect(manager.closed).toBe(false);
    await manager.close();
    await manager.close();
    expect(manager.closed).toBe(true);
    const makers: [string, () => unknown][] = [
      ['share', () => manager.share({ x: 1 })],
      ['dict', () => manager.dict()],
      ['list', () => manager.list()],
      ['value', () => manager.value(0)],
      ['lock', () => manager.lock()],
      ['queue', () => manager.queue()],
    ];
    for (const [name, make] of makers) {
      let thrown: unknown;
      try {
        make();
      } catch (error) {
        thrown = error;
      }
      expect([name, thrown]).toEqual([name, expect.any(ManagerClosedError)]);
      expect((thrown as Error).name).toBe('ManagerClosedError');
      expect((thrown as Error).message).toMatch(/manager is closed/);
    }
  });

  test('`await using` closes it at the end of the block', async () => {
    let outside: Manager | undefined;
    {
      await using manager = new Manager();
      outside = manager;
      expect(manager.closed).toBe(false);
    }
    expect(outside.closed).toBe(true);
    expect(() => outside?.value(1)).toThrow(ManagerClosedError);
  });
});

describe('arguments', () => {
  test('what is not shareable or not a valid option is refused with TypeError or RangeError saying what came', async () => {
    const manager = new Manager();
    try {
      expect(() => manager.share(null as unknown as object)).toThrow(/Expected an object or a function to share, got `null`/);
      expect(() => manager.share(5 as unknown as object)).toThrow(TypeError);
      expect(() => manager.dict(5 as unknown as [])).toThrow(/Expected `entries` to be iterable, got `number`/);
      expect(() => manager.list({} as unknown as [])).toThrow(/Expected `items` to be iterable/);
      const queue = manager.queue<number>();
      await expect(queue.get('soon' as unknown as number)).rejects.toThrow(TypeError);
      await expect(queue.get(-1)).rejects.toThrow(RangeError);
      await queue.put(1);
      expect(await queue.get(0)).toBe(1);
    } finally {
      await manager.close();
    }
  });
});

describe.each(CONTEXTS)("shared objects' lifecycle on the '%s' context", (context) => {
  const pool = useSharedPool(context);
  const pools = usePools(context);
  const managers = useManagers();
  const endpoints = watchEndpoints();

  test("a running task's next call after manager.close() rejects in the worker with ManagerClosedError", async () => {
    const closing = managers();
    const control = managers();
    const value = closing.value(1);
    const started = control.queue<boolean>();
    const go = control.queue<boolean>();
    const result = pool().applyAsync(async (value: SharedValue<number>, started: SharedQueue<boolean>, go: SharedQueue<boolean>) => {
      const before = await value.get();
      await started.put(true);
      await go.get();
      try {
        return { before, after: await value.get() };
      } catch (error) {
        return { before, caught: { isError: error instanceof Error, name: (error as Error).name, message: (error as Error).message } };
      }
    }, [value, started, go]);
    expect(await started.get(WAIT_MS)).toBe(true);
    await closing.close();
    await go.put(true);
    const seen = (await result.get(WAIT_MS)) as { before: number; caught?: Caught };
    expect(seen.before).toBe(1);
    expect(seen.caught).toEqual({ isError: true, name: 'ManagerClosedError', message: expect.stringMatching(/its manager was closed/) });
  });

  test('a task given a handle of a closed manager fails with ManagerClosedError at its first call', async () => {
    const manager = managers();
    const value = manager.value(1);
    await manager.close();
    const error = await rejectionOf(pool().apply(async (value: SharedValue<number>) => value.get(), [value]));
    expect(error).toMatchObject({ name: 'ManagerClosedError', message: expect.stringMatching(/its manager was closed/) });
  });

  test('a worker that exits while holding the lock lets it go: a task waiting for it gets it', async () => {
    const twoWorkers = pools(WORKERS);
    const manager = managers();
    const lock = manager.lock();
    const signals = manager.queue<string>();
    const die = manager.queue<boolean>();
    const holder = twoWorkers.applyAsync(async (lock: SharedLock, signals: SharedQueue<string>, die: SharedQueue<boolean>) => {
      await lock.acquire();
      await signals.put('held');
      await die.get();
      process.exit(3);
    }, [lock, signals, die]);
    expect(await signals.get(WAIT_MS)).toBe('held');
    expect(await lock.locked()).toBe(true);
    // A task with a timeout runs alone on its worker: this one cannot queue behind the holder.
    const waiter = twoWorkers.applyAsync(async (lock: SharedLock, signals: SharedQueue<string>) => {
      await signals.put('waiting');
      const held = await lock.acquire();
      await held.release();
      return 'acquired';
    }, [lock, signals], { timeout: WAIT_MS });
    expect(await signals.get(WAIT_MS)).toBe('waiting');
    await die.put(true);
    expect(await rejectionOf(holder.get(WAIT_MS))).toBeInstanceOf(WorkerCrashedError);
    expect(await waiter.get(WAIT_MS)).toBe('acquired');
    expect(await lock.locked()).toBe(false);
    const held = await lock.acquire();
    await held.release();
  });

  test('a worker that exits while waiting in queue.get() stops waiting: the next item is not lost to it', async () => {
    const manager = managers();
    const jobs = manager.queue<string>();
    const signals = manager.queue<string>();
    const doomed = pool().applyAsync(async (jobs: SharedQueue<string>, signals: SharedQueue<string>) => {
      void jobs.get(); // reaches the parent before the signal below: the parent has it waiting
      await signals.put('waiting');
      process.exit(4);
    }, [jobs, signals]);
    expect(await signals.get(WAIT_MS)).toBe('waiting');
    expect(await rejectionOf(doomed.get(WAIT_MS))).toBeInstanceOf(WorkerCrashedError);
    await jobs.put('item');
    expect(await jobs.getNowait()).toBe('item');
  });

  test('the parent holds an endpoint for each object a running task has called, and none once its tasks end', async () => {
    await endpoints.allClosed(); // what earlier tests left, if anything, is gone
    const manager = managers();
    const value = manager.value(7);
    const started = manager.queue<boolean>();
    const go = manager.queue<boolean>();
    const running = pool().applyAsync(async (value: SharedValue<number>, started: SharedQueue<boolean>, go: SharedQueue<boolean>) => {
      await value.get();
      const going = go.get(); // sent before the signal: the parent has all three called when it comes
      await started.put(true);
      await going;
      return value.get();
    }, [value, started, go]);
    expect(await started.get(WAIT_MS)).toBe(true);
    expect(endpoints.open()).toBe(3);
    await go.put(true);
    expect(await running.get(WAIT_MS)).toBe(7);
    await endpoints.allClosed();

    const list = manager.list<number>();
    const items = range(100);
    await pool().starmap(async (value: SharedValue<number>, list: SharedList<number>, x: number) => list.append(x + (await value.get())), items.map((x) => [value, list, x] as const));
    expect(await list.length()).toBe(items.length);
    await endpoints.allClosed();
  });

  test('a proxy from initargs keeps its endpoint while its worker lives, and loses it when the worker ends', async () => {
    await endpoints.allClosed();
    const value = managers().value(5);
    const oneWorker = pools({
      processes: 1,
      initializer: (value: SharedValue<number>) => {
        (globalThis as unknown as Stash).stashed = value;
      },
      initargs: [value],
    });
    const read = async (): Promise<number | undefined> => (globalThis as unknown as Stash).stashed?.get();
    expect(await oneWorker.apply(read)).toBe(5);
    expect(await oneWorker.apply(read)).toBe(5);
    expect(endpoints.open()).toBe(1);
    await oneWorker.terminate();
    expect(endpoints.open()).toBe(0);
  });

  test("a proxy kept past its task's end is released: a later task's call on it rejects", async () => {
    const oneWorker = pools(1);
    const value = managers().value(5);
    const stash = async (value: SharedValue<number>): Promise<number> => {
      (globalThis as unknown as Stash).stashed = value;
      return value.get();
    };
    expect(await oneWorker.apply(stash, [value])).toBe(5);
    const callStashed = async (value?: SharedValue<number>): Promise<[number | undefined, string]> => {
      const fresh = await value?.get();
      try {
        return [fresh, `answered ${await (globalThis as unknown as Stash).stashed?.get()}`];
      } catch (error) {
        return [fresh, (error as Error).message];
      }
    };
    expect(await oneWorker.apply(callStashed)).toEqual([undefined, expect.stringMatching(/Proxy has been released/)]);
    // The same object given again comes as a new proxy; the kept one stays released.
    expect(await oneWorker.apply(callStashed, [value])).toEqual([5, expect.stringMatching(/Proxy has been released/)]);
  });
});
