/**
 * The Manager's objects used from tasks, on every context: a counter under a lock, a list, a
 * queue between the parent and the tasks, a function the workers call back, a dict, handles in
 * `initargs`, and errors thrown by a shared object's methods.
 *
 * The tasks are plain functions, sent as source: each uses only its arguments and what a worker
 * has (globals, `require`). Their parameters are typed as the parent's objects, whose methods are
 * all async: in a worker the same calls go through a proxy.
 */
import type { SharedDict, SharedList, SharedLock, SharedQueue, SharedValue, Shared } from '@mpool/pool';
import { byValue, range, rejectionOf, usePools, useSharedPool, WORKERS } from '../conformance/helpers';
import { CONTEXTS, sum, useManagers, WAIT_MS } from './support';

/** Tasks per test where several run: twice the workers, so that each worker runs more than one. */
const TASKS = 2 * WORKERS;

/** Increments each task makes under the lock. */
const INCREMENTS = 25;

/**
 * Waits at the start line until the parent lets it go, then adds one to `counter` `k` times, each
 * time a read and a write under `lock`: without the lock, two workers would read the same value and
 * an increment would be lost.
 */
async function incrementUnderLock(
  counter: SharedValue<number>,
  lock: SharedLock,
  arrived: SharedQueue<boolean>,
  go: SharedQueue<boolean>,
  k: number,
): Promise<number> {
  await arrived.put(true);
  await go.get();
  for (let i = 0; i < k; i++) {
    const held = await lock.acquire();
    try {
      const seen = await counter.get();
      await counter.set(seen + 1);
    } finally {
      await held.release();
    }
  }
  return k;
}

/** Answers every number on `jobs` with its square on `results`, until a `null`; returns how many it answered. */
async function squareFromQueue(jobs: SharedQueue<number | null>, results: SharedQueue<[number, number]>): Promise<number> {
  let answered = 0;
  for (;;) {
    const x = await jobs.get();
    if (x === null) return answered;
    await results.put([x, x * x]);
    answered++;
  }
}

/** Reports steps 1 to `steps` to `report`, sending each report without waiting for the one before. */
async function reportProgress(report: Shared<(task: number, step: number) => void>, task: number, steps: number): Promise<number> {
  const sent: Promise<void>[] = [];
  for (let step = 1; step <= steps; step++) sent.push(report(task, step));
  await Promise.all(sent);
  return task;
}

/** What the initializer of the `initargs` test leaves in each worker's global scope. */
interface InitGlobals {
  seen: SharedList<[string, number]>;
}

describe.each(CONTEXTS)("the Manager's objects on the '%s' context", (context) => {
  const pool = useSharedPool(context);
  const pools = usePools(context);
  const managers = useManagers();

  test(`${TASKS} tasks on ${WORKERS} workers, each adding 1 ${INCREMENTS} times under the lock, leave the counter at exactly ${TASKS * INCREMENTS}`, async () => {
    const manager = managers();
    const counter = manager.value(0);
    const lock = manager.lock();
    const arrived = manager.queue<boolean>();
    const go = manager.queue<boolean>();
    const done = pool().starmapAsync(incrementUnderLock, range(TASKS).map(() => [counter, lock, arrived, go, INCREMENTS] as const), { chunksize: 1 });
    // A worker runs one task at a time: two tasks at the start line are on two workers, which
    // then increment at the same time.
    for (const _ of range(WORKERS)) expect(await arrived.get(WAIT_MS)).toBe(true);
    for (const _ of range(TASKS)) await go.put(true);
    expect(await done.get(WAIT_MS)).toEqual(range(TASKS).map(() => INCREMENTS));
    expect(await counter.get()).toBe(TASKS * INCREMENTS);
    expect(await lock.locked()).toBe(false);
  });

  test('a shared list collects every item of a map exactly once', async () => {
    const items = range(200);
    const list = managers().list<number>();
    const lengths = await pool().starmap(async (list: SharedList<number>, x: number) => list.append(x), items.map((x) => [list, x] as const));
    expect((await list.toArray()).sort(byValue)).toEqual(items);
    // Each append saw the list one item longer than the one before it: none was lost or doubled.
    expect([...lengths].sort(byValue)).toEqual(items.map((x) => x + 1));
  });

  test('the parent feeds tasks through one queue while they wait on it, and gets their results from another', async () => {
    const manager = managers();
    const jobs = manager.queue<number | null>();
    const results = manager.queue<[number, number]>();
    const consumers = range(WORKERS).map(() => pool().applyAsync(squareFromQueue, [jobs, results]));
    // One item at a time, each put only after the answer to the one before: every item reaches a
    // task that is already waiting in get().
    for (const x of range(20)) {
      await jobs.put(x);
      expect(await results.get(WAIT_MS)).toEqual([x, x * x]);
    }
    for (const _ of consumers) await jobs.put(null);
    const answered = await Promise.all(consumers.map((consumer) => consumer.get(WAIT_MS)));
    expect(sum(answered)).toBe(20);
    expect(await jobs.empty()).toBe(true);
    expect(await results.size()).toBe(0);
  });

  test("workers call a shared function back, and each task's calls arrive in the order it made them", async () => {
    const steps = 10;
    const reports: [number, number][] = [];
    const report = managers().share((task: number, step: number) => {
      reports.push([task, step]);
    });
    const tasks = range(TASKS);
    expect(await pool().starmap(reportProgress, tasks.map((task) => [report, task, steps] as const), 1)).toEqual(tasks);
    expect(reports).toHaveLength(TASKS * steps);
    for (const task of tasks) {
      expect(reports.filter(([from]) => from === task).map(([, step]) => step)).toEqual(range(steps).map((i) => i + 1));
    }
  });

  test('every dict operation works from a worker, and the parent sees what the workers did', async () => {
    const dict = managers().dict<string, number>([['kept', 0]]);
    const seen = await pool().apply(async (dict: SharedDict<string, number>) => {
      await dict.set('a', 1);
      await dict.set('b', 2);
      await dict.set('gone', 3);
      return {
        a: await dict.get('a'),
        missing: (await dict.get('missing')) ?? 'undefined',
        hasB: await dict.has('b'),
        deleted: await dict.delete('gone'),
        deletedAgain: await dict.delete('gone'),
        hasGone: await dict.has('gone'),
        size: await dict.size(),
        keys: await dict.keys(),
        values: await dict.values(),
        entries: await dict.entries(),
      };
    }, [dict]);
    expect(seen).toEqual({
      a: 1,
      missing: 'undefined',
      hasB: true,
      deleted: true,
      deletedAgain: false,
      hasGone: false,
      size: 3,
      keys: ['kept', 'a', 'b'],
      values: [0, 1, 2],
      entries: [['kept', 0], ['a', 1], ['b', 2]],
    });
    expect(await dict.entries()).toEqual([['kept', 0], ['a', 1], ['b', 2]]);

    await pool().starmap(async (dict: SharedDict<string, number>, i: number) => dict.set(`key ${i}`, i), range(20).map((i) => [dict, i] as const));
    expect(await dict.size()).toBe(23);
    expect(await dict.get('key 19')).toBe(19);

    await pool().apply(async (dict: SharedDict<string, number>) => dict.clear(), [dict]);
    expect(await dict.size()).toBe(0);
  });

  test('handles in initargs work in the initializer and in every task the worker runs after it', async () => {
    const manager = managers();
    const started = manager.list<string>();
    const seen = manager.list<[string, number]>();
    const initPool = pools({
      processes: WORKERS,
      initializer: async (started: SharedList<string>, seen: SharedList<[string, number]>) => {
        (globalThis as unknown as InitGlobals).seen = seen;
        await started.append(`${process.pid}:${require('node:worker_threads').threadId}`);
      },
      initargs: [started, seen],
    });
    const items = range(20);
    await initPool.map(async (x: number) => {
      await (globalThis as unknown as InitGlobals).seen.append([`${process.pid}:${require('node:worker_threads').threadId}`, x]);
    }, items, 1);
    const entries = await seen.toArray();
    expect(entries.map(([, x]) => x).sort(byValue)).toEqual(items);
    // 20 tasks on at most 2 workers: some worker used the proxy from its initargs for 10 or more.
    const workers = entries.map(([worker]) => worker);
    const tasksPerWorker = [...new Set(workers)].map((worker) => workers.filter((w) => w === worker).length);
    expect(Math.max(...tasksPerWorker)).toBeGreaterThanOrEqual(items.length / WORKERS);
    const initialized = await started.toArray();
    expect(new Set(initialized).size).toBe(initialized.length);
    for (const worker of workers) expect(initialized).toContain(worker);
  });

  test("an error thrown by a shared object's method reaches the worker as a rejection with its name and message", async () => {
    const manager = managers();
    const checker = manager.share({
      check(x: number): number {
        if (x < 0) throw new RangeError(`Expected a number ≥ 0, got ${x}`);
        return x;
      },
      async checkLater(x: number): Promise<number> {
        if (x < 0) throw new Error(`${x} is negative`);
        return x;
      },
    });
    const list = manager.list<number>([1]);
    const seen = await pool().apply(async (checker: Shared<{ check(x: number): number; checkLater(x: number): Promise<number> }>, list: SharedList<number>) => {
      const rejection = async (call: () => Promise<unknown>): Promise<unknown[]> => {
        try {
          return ['fulfilled', await call()];
        } catch (error) {
          return [error instanceof Error, (error as Error).name, (error as Error).message];
        }
      };
      return [
        await rejection(() => checker.check(-1)),
        await rejection(() => checker.checkLater(-2)),
        await rejection(() => list.set(5, 0)),
        await rejection(() => checker.check(3)),
      ];
    }, [checker, list]);
    expect(seen).toEqual([
      [true, 'RangeError', 'Expected a number ≥ 0, got -1'],
      [true, 'Error', '-2 is negative'],
      [true, 'RangeError', 'Expected an index from 0 to 0, got 5'],
      ['fulfilled', 3],
    ]);
    // A task that does not catch it fails with it.
    const error = await rejectionOf(pool().apply(async (checker: Shared<{ check(x: number): number }>) => checker.check(-4), [checker]));
    expect(error).toMatchObject({ name: 'RangeError', message: 'Expected a number ≥ 0, got -4' });
  });
});
