/**
 * `pool.stats()` over the fake backend: every count against a workload whose every step the test
 * makes, and the times against a clock it moves by hand.
 */
import { WorkerCrashedError, type PoolStats } from '@mpool/core';
import { settle, threw } from './fake-executor.js';
import { useFakePools } from './pool-harness.js';

const fakePool = useFakePools();

const double = (x: number): number => x * 2;
const LONG_MS = 50;
const TINY_MS = 0.000001;

/** Every task submitted is in exactly one of the task counts. */
function submitted(stats: PoolStats): number {
  const { queued, running, completed, failed, cancelled } = stats.tasks;
  return queued + running + completed + failed + cancelled;
}

describe('task counts', () => {
  test('N tasks: queued while the worker starts, running once sent, completed N once answered', async () => {
    const { pool, executor } = fakePool(1);
    const results = [1, 2, 3, 4, 5].map((x) => pool.applyAsync(double, [x]));
    expect(pool.stats().tasks).toEqual({ queued: 5, running: 0, completed: 0, failed: 0, cancelled: 0 });
    expect(pool.stats().workers).toMatchObject({ total: 1, starting: 1, busy: 0, idle: 0, stopping: 0 });

    const [worker] = executor.workers;
    worker.ready();
    await settle();
    // One at a time until the pool knows how long a task takes.
    expect(pool.stats().tasks).toEqual({ queued: 4, running: 1, completed: 0, failed: 0, cancelled: 0 });
    expect(pool.stats().workers).toMatchObject({ total: 1, starting: 0, busy: 1, idle: 0 });
    while (worker.unanswered.length > 0) {
      worker.answer(double, { busyMs: LONG_MS });
      await settle();
    }
    expect(await Promise.all(results)).toEqual([2, 4, 6, 8, 10]);
    expect(pool.stats().tasks).toEqual({ queued: 0, running: 0, completed: 5, failed: 0, cancelled: 0 });
    expect(pool.stats().workers).toMatchObject({ total: 1, busy: 0, idle: 1 });
  });

  test('a map counts its chunks; a chunk that fails counts as failed and the chunks withdrawn after it as cancelled', async () => {
    const { pool, executor } = fakePool(1);
    const mapped = pool.map(double, [1, 2, 3, 4, 5, 6], 2);
    const [worker] = executor.workers;
    worker.ready();
    await settle();
    expect(pool.stats().tasks).toMatchObject({ queued: 2, running: 1 });
    worker.reply(LONG_MS, threw(new RangeError('no')));
    await expect(mapped).rejects.toBeInstanceOf(RangeError);
    const stats = pool.stats();
    expect(stats.tasks).toEqual({ queued: 0, running: 0, completed: 0, failed: 1, cancelled: 2 });
    expect(submitted(stats)).toBe(3);
  });

  test('a chunk withdrawn while it runs counts as running until its worker answers, then as cancelled', async () => {
    const { pool, executor } = fakePool(2);
    const mapped = pool.map(double, [1, 2], 1);
    for (const worker of executor.workers) worker.ready();
    await settle();
    expect(pool.stats().tasks).toMatchObject({ queued: 0, running: 2 });
    const [failing, other] = executor.workers.filter((worker) => worker.unanswered.length > 0);
    failing.reply(LONG_MS, threw(new RangeError('no')));
    await expect(mapped).rejects.toBeInstanceOf(RangeError);
    expect(pool.stats().tasks).toEqual({ queued: 0, running: 1, completed: 0, failed: 1, cancelled: 0 });
    other.answer(double, { busyMs: LONG_MS });
    await settle();
    expect(pool.stats().tasks).toEqual({ queued: 0, running: 0, completed: 0, failed: 1, cancelled: 1 });
  });

  test('a task aborted while it runs alone is cancelled at once, its worker replaced', async () => {
    const { pool, executor } = fakePool(1);
    const controller = new AbortController();
    const aborted = pool.applyAsync(double, [3], { signal: controller.signal });
    executor.workers[0].ready();
    await settle();
    controller.abort();
    await aborted.wait();
    expect(pool.stats().tasks).toEqual({ queued: 0, running: 0, completed: 0, failed: 0, cancelled: 1 });
    expect(pool.stats().workers).toMatchObject({ crashes: 0, replacements: 1 });
  });
});

describe('worker counts', () => {
  test('a crash: crashes 1, replacements 1, the task failed; the replacement is starting, then idle', async () => {
    const { pool, executor } = fakePool(1);
    const doomed = pool.applyAsync(double, [1]);
    executor.workers[0].ready();
    await settle();
    executor.workers[0].exit(7);
    await expect(doomed.get()).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(pool.stats().workers).toEqual({ total: 1, starting: 1, busy: 0, idle: 0, stopping: 0, crashes: 1, replacements: 1 });
    expect(pool.stats().tasks).toMatchObject({ failed: 1, completed: 0 });
    executor.workers[1].ready();
    expect(pool.stats().workers).toMatchObject({ total: 1, starting: 0, idle: 1 });
  });

  test('recycling by maxtasksperchild replaces workers without a crash; close() stops them without replacing them', async () => {
    const { pool, executor } = fakePool({ processes: 1, maxtasksperchild: 1 });
    const results = [1, 2].map((x) => pool.applyAsync(double, [x]));
    executor.workers[0].ready();
    await settle();
    // Its quota spent, its replacement starts while it finishes.
    expect(executor.workers).toHaveLength(2);
    expect(pool.stats().workers).toMatchObject({ total: 2, starting: 1, busy: 1, crashes: 0, replacements: 1 });
    executor.workers[0].answer(double, { busyMs: LONG_MS });
    await settle();
    expect(pool.stats().workers).toMatchObject({ stopping: 1 });
    executor.workers[0].exit(0);
    executor.workers[1].ready();
    await settle();
    executor.workers[1].answer(double, { busyMs: LONG_MS });
    expect(await Promise.all(results)).toEqual([2, 4]);
    await settle();
    executor.workers[1].exit(0);
    const closed = pool.close();
    await settle();
    for (const worker of executor.alive) worker.exit(0);
    await closed;
    expect(pool.stats().workers).toMatchObject({ total: 0, crashes: 0, replacements: 2 });
  });

  test('a worker asked to stop (a timeout, terminate()) is no crash', async () => {
    const { pool, executor } = fakePool(1);
    const cut = pool.applyAsync(double, [1], { timeout: 1 });
    executor.workers[0].ready();
    await cut.wait();
    await settle(); // its worker's exit
    expect(pool.stats().workers).toMatchObject({ crashes: 0, replacements: 1 });
    await pool.terminate();
    expect(pool.stats().workers).toMatchObject({ total: 0, crashes: 0, replacements: 1 });
  });
});

describe('times', () => {
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  test('all zero before any task is timed', () => {
    const { pool } = fakePool(1);
    const { runTime, waitTime, utilization } = pool.stats();
    expect([runTime, waitTime, utilization]).toEqual([{ p50: 0, p90: 0, p99: 0, max: 0 }, { p50: 0, p90: 0, p99: 0, max: 0 }, 0]);
  });

  test('run time is what the workers report, a message of several tasks counting as their average', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    const tiny = pool.applyAsync(double, [0]);
    await settle();
    worker.answer(double, { busyMs: TINY_MS });
    await tiny;
    // Known to be tiny, tasks now travel together: four in one message, answered in one.
    const batch = [1, 2, 3, 4].map((x) => pool.applyAsync(double, [x]));
    await settle();
    expect(worker.unanswered).toHaveLength(4);
    worker.answer(double, { busyMs: 8 });
    await Promise.all(batch);
    const long = pool.applyAsync(double, [5]);
    await settle();
    worker.answer(double, { busyMs: 40 });
    await long;
    const { runTime } = pool.stats();
    expect(runTime.p50).toBeCloseTo(2, 2);
    expect(runTime.max).toBeCloseTo(40, 1);
  });

  test('wait time runs from submission to the first send: a task queued while its worker starts waits as long', async () => {
    const { pool, executor } = fakePool(1);
    const waiting = pool.applyAsync(double, [1]);
    jest.advanceTimersByTime(200);
    const [worker] = executor.workers;
    worker.ready();
    await settle();
    worker.answer(double, { busyMs: 30 });
    await waiting;
    const quick = pool.applyAsync(double, [2]);
    await settle();
    worker.answer(double, { busyMs: 30 });
    await quick;
    const { waitTime } = pool.stats();
    expect(waitTime.max).toBeCloseTo(200, 0);
    expect(waitTime.p50).toBeLessThan(1);
  });

  test('utilization is the busy time over the time the workers have been ready', async () => {
    const { pool, executor } = fakePool(2);
    for (const worker of executor.workers) worker.ready();
    const result = pool.applyAsync(double, [1]);
    await settle();
    jest.advanceTimersByTime(100);
    const busy = executor.workers.find((worker) => worker.unanswered.length > 0);
    busy?.answer(double, { busyMs: 100 });
    await result;
    // 100 ms of work over 2 workers × 100 ms.
    expect(pool.stats().utilization).toBeCloseTo(0.5, 2);
  });

  test('a burst of thousands of tiny tasks: every one completes, and none is said to have waited longer than the burst did', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    const first = pool.applyAsync(double, [0]);
    await settle();
    worker.answer(double, { busyMs: TINY_MS });
    await first;
    const burst = Array.from({ length: 4096 }, (_, i) => pool.applyAsync(double, [i]));
    jest.advanceTimersByTime(5);
    await settle();
    while (worker.unanswered.length > 0) {
      worker.answer(double, { busyMs: TINY_MS });
      await settle();
    }
    await Promise.all(burst);
    const { waitTime, tasks } = pool.stats();
    expect(tasks.completed).toBe(4097);
    expect(waitTime.max).toBeLessThanOrEqual(5.01);
  });
});
