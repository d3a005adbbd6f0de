/**
 * A call's own `timeout` and `signal`, watched over the fake backend: what is sent, when the clock
 * runs, which worker is terminated, and what the caller gets. Timers are jest's, moved by hand.
 */
import { AbortError, TimeoutError } from '@mpool/core';
import { hasSettled, settle, tasksOf, type FakeWorker } from './fake-executor.js';
import { useFakePools } from './pool-harness.js';

const fakePool = useFakePools();

const double = (x: number): number => x * 2;

/** A call's timeout in these tests. */
const TIMEOUT_MS = 100;
/** Busy time per task small enough that tasks without limits travel many to a message. */
const TINY_MS = 0.000001;

function range(n: number, from = 0): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}

/** Tasks per RUN message the worker received. */
function tasksPerRun(worker: FakeWorker): number[] {
  return worker.runs.map((run) => tasksOf(run).length);
}

beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
});
afterEach(() => {
  jest.useRealTimers();
});

describe("a call's timeout", () => {
  test('a task that runs past it fails with TimeoutError; its worker is terminated and replaced, and the next task runs on the replacement', async () => {
    const { pool, executor } = fakePool(1);
    const [first] = executor.workers;
    first.ready();
    const late = pool.applyAsync(double, [1], { timeout: TIMEOUT_MS });
    await settle();
    expect(first.unanswered).toHaveLength(1);
    jest.advanceTimersByTime(TIMEOUT_MS - 1);
    expect(late.ready()).toBe(false);
    jest.advanceTimersByTime(1);
    const error: unknown = await late.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(new RegExp(`past its timeout of ${TIMEOUT_MS} ms`));
    expect(first.terminateCalls).toBe(1);
    await settle();
    expect(executor.workers).toHaveLength(2);
    const second = executor.workers[1];
    second.ready();
    const next = pool.applyAsync(double, [2]);
    await settle();
    second.answer(double);
    expect(await next).toBe(4);
  });

  test('a task answered in time succeeds, and its clock stops: its worker lives on', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    const result = pool.applyAsync(double, [3], { timeout: TIMEOUT_MS });
    await settle();
    jest.advanceTimersByTime(TIMEOUT_MS - 1);
    worker.answer(double);
    expect(await result).toBe(6);
    jest.advanceTimersByTime(TIMEOUT_MS * 10);
    expect(worker.terminateCalls).toBe(0);
  });

  test('a task with a timeout runs alone: nothing travels with it, and nothing is sent to its worker until it is answered', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    const warm = pool.applyAsync(double, [0]);
    await settle();
    worker.answer(double, { busyMs: TINY_MS });
    await warm;
    const limited = pool.applyAsync(double, [1], { timeout: TIMEOUT_MS });
    const others = range(5, 2).map((x) => pool.applyAsync(double, [x]));
    await settle();
    expect(worker.unanswered).toHaveLength(1);
    worker.answer(double);
    expect(await limited).toBe(2);
    await settle();
    worker.answer(double, { busyMs: 5 * TINY_MS });
    expect(await Promise.all(others)).toEqual(range(5, 2).map(double));
    expect(tasksPerRun(worker)).toEqual([1, 1, 5]);
  });

  test('its clock runs only while the task runs: waiting in the queue behind another task is not timed', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    const ahead = pool.applyAsync(double, [1]);
    const limited = pool.applyAsync(double, [2], { timeout: TIMEOUT_MS });
    await settle();
    expect(worker.unanswered).toHaveLength(1);
    jest.advanceTimersByTime(TIMEOUT_MS * 10);
    expect(limited.ready()).toBe(false);
    worker.answer(double);
    expect(await ahead).toBe(2);
    await settle();
    expect(worker.unanswered).toHaveLength(1);
    worker.answer(double);
    expect(await limited).toBe(4);
    expect(worker.terminateCalls).toBe(0);
  });

  test("the pool's timeout is every call's default, and a call's own overrides it", async () => {
    const { pool, executor } = fakePool({ processes: 1, timeout: TIMEOUT_MS });
    const [worker] = executor.workers;
    worker.ready();
    const longer = pool.applyAsync(double, [1], { timeout: TIMEOUT_MS * 3 });
    await settle();
    jest.advanceTimersByTime(TIMEOUT_MS * 2);
    worker.answer(double);
    expect(await longer).toBe(2);
    const byDefault = pool.applyAsync(double, [2]);
    await settle();
    jest.advanceTimersByTime(TIMEOUT_MS);
    await expect(byDefault.get()).rejects.toBeInstanceOf(TimeoutError);
    expect(worker.terminateCalls).toBe(1);
  });

  test('a map times each chunk alone: one chunk past it rejects the map, and its chunks not yet sent never are', async () => {
    const { pool, executor } = fakePool(2);
    for (const worker of executor.workers) worker.ready();
    const mapped = pool.mapAsync(double, range(8), { chunksize: 2, timeout: TIMEOUT_MS });
    await settle();
    // Each worker runs one chunk alone, the other two wait.
    expect(executor.workers.map((w) => tasksPerRun(w))).toEqual([[1], [1]]);
    executor.workers[0].answer(double);
    await settle();
    expect(tasksPerRun(executor.workers[0])).toEqual([1, 1]);
    jest.advanceTimersByTime(TIMEOUT_MS);
    await expect(mapped.get()).rejects.toBeInstanceOf(TimeoutError);
    await settle();
    // Both its running chunks' workers were terminated, and replaced; its last chunk never went.
    expect(executor.workers.map((w) => w.terminateCalls)).toEqual([1, 1, 0, 0]);
    expect(executor.workers.flatMap((w) => w.tasks)).toHaveLength(3);
  });
});

describe("a call's signal", () => {
  test('already aborted: the call rejects at once with AbortError, its cause the reason, and nothing is sent', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    const reason = new Error('not wanted');
    const result = pool.applyAsync(double, [1], { signal: AbortSignal.abort(reason) });
    const error: unknown = await result.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortError);
    expect((error as Error).cause).toBe(reason);
    await settle();
    expect(worker.sent).toEqual([]);
  });

  test('a queued task whose signal aborts never runs, and its worker goes on', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    const ahead = pool.applyAsync(double, [1]);
    const controller = new AbortController();
    const withdrawn = pool.applyAsync(double, [2], { signal: controller.signal });
    await settle();
    controller.abort();
    await expect(withdrawn.get()).rejects.toBeInstanceOf(AbortError);
    worker.answer(double);
    expect(await ahead).toBe(2);
    await settle();
    expect(worker.tasks.map((task) => task.payload)).toEqual([[1]]);
    expect(worker.terminateCalls).toBe(0);
  });

  test('a running task whose signal aborts has its worker terminated and replaced; other work runs on', async () => {
    const { pool, executor } = fakePool(2);
    for (const worker of executor.workers) worker.ready();
    const controller = new AbortController();
    const aborted = pool.applyAsync(double, [1], { signal: controller.signal });
    const other = pool.applyAsync(double, [2]);
    await settle();
    const [running] = executor.workers.filter((w) => w.tasks.some((task) => (task.payload as number[])[0] === 1));
    controller.abort(new Error('stop'));
    await expect(aborted.get()).rejects.toMatchObject({ name: 'AbortError', cause: new Error('stop') });
    expect(running!.terminateCalls).toBe(1);
    await settle();
    expect(executor.workers).toHaveLength(3);
    const [busy] = executor.alive.filter((w) => w.unanswered.length > 0);
    busy!.answer(double);
    expect(await other).toBe(4);
  });

  test('a signal that aborts after its task is done changes nothing', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    const controller = new AbortController();
    const result = pool.applyAsync(double, [5], { signal: controller.signal });
    await settle();
    worker.answer(double);
    expect(await result).toBe(10);
    controller.abort();
    await settle();
    expect(worker.terminateCalls).toBe(0);
    expect(result.successful()).toBe(true);
  });

  test('a map whose signal aborts rejects with AbortError: its running chunk stops with its worker, its queued chunks never run', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    const controller = new AbortController();
    const mapped = pool.mapAsync(double, range(6), { chunksize: 2, signal: controller.signal });
    await settle();
    expect(tasksPerRun(worker)).toEqual([1]);
    controller.abort();
    await expect(mapped.get()).rejects.toBeInstanceOf(AbortError);
    expect(worker.terminateCalls).toBe(1);
    await settle();
    const [replacement] = executor.alive;
    replacement!.ready();
    await settle();
    expect(replacement!.sent).toEqual([]);
  });

  test('an imap whose signal aborts throws AbortError at the next step, after what it had yielded', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    const controller = new AbortController();
    const iterator = pool.imap(double, range(4), { signal: controller.signal });
    const first = iterator.next();
    await settle();
    worker.answer(double);
    expect(await first).toEqual({ done: false, value: 0 });
    controller.abort();
    await expect(iterator.next()).rejects.toBeInstanceOf(AbortError);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    // Its worker, running the next item alone, was terminated; the items after it never went.
    expect(worker.terminateCalls).toBe(1);
    expect(worker.runs).toHaveLength(2);
    expect(await hasSettled(pool.close())).toBe(true);
  });
});
