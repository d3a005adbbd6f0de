/**
 * What the scheduler does when workers die, fail to start, or cannot be sent a task.
 */
import { DataCloneError, InitializerError, PoolStateError, TimeoutError, WorkerCrashedError, WorkerGoneError, type AsyncResult } from '@mpool/core';
import { hasSettled, learnTasksAreTiny, settle, type FakeWorker } from './fake-executor.js';
import { useFakePools } from './pool-harness.js';

const fakePool = useFakePools();

const double = (x: number): number => x * 2;
const identity = (x: unknown): unknown => x;

const TINY_MS = 0.000001;
const LONG_MS = 50;
/** The pool's `timeout` in the tests of starts that run past it; the clock is jest's, moved by hand. */
const TIMEOUT_MS = 100;

function range(n: number, from = 0): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}

function tasksPerRun(worker: FakeWorker): number[] {
  return worker.runs.map((run) => (run.length - 2) / 3);
}

describe('a worker that dies', () => {
  test('with one unanswered task fails exactly that task with WorkerCrashedError, keeping the exit code', async () => {
    const { pool, executor } = fakePool(2);
    const doomed = pool.applyAsync(double, [1]);
    const bystander = pool.applyAsync(double, [2]);
    const [first, second] = executor.workers;
    first.ready();
    second.ready();
    await settle();

    first.exit(7);
    const error: unknown = await doomed.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error).toMatchObject({ name: 'WorkerCrashedError', exitCode: 7, signal: null });
    expect(String((error as Error).message)).toMatch(/exit code 7/);
    expect(bystander.ready()).toBe(false);

    second.answer(double, { busyMs: LONG_MS });
    expect(await bystander).toBe(4);
  });

  test('is replaced by a new worker, which is sent the function definition again', async () => {
    const { pool, executor } = fakePool(1);
    const doomed = pool.applyAsync(double, [1]);
    executor.workers[0].ready();
    await settle();
    executor.workers[0].exit(1);
    await expect(doomed.get()).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(executor.workers).toHaveLength(2);

    const next = pool.applyAsync(double, [5]);
    const replacement = executor.workers[1];
    replacement.ready();
    await settle();
    expect(replacement.runs[0][1]).toEqual([[replacement.tasks[0].fnId, expect.objectContaining({ kind: 'source' })]]);
    replacement.answer(double, { busyMs: LONG_MS });
    expect(await next).toBe(10);
  });

  test('keeps the signal and the worker’s own error as the crash’s cause', async () => {
    const { pool, executor } = fakePool(2);
    const killed = pool.applyAsync(double, [1]);
    const thrown = pool.applyAsync(double, [2]);
    for (const worker of executor.workers) worker.ready();
    await settle();
    executor.workers[0].exit(null, 'SIGKILL');
    const uncaught = new Error('uncaught in a timer');
    executor.workers[1].exit(1, null, uncaught);

    await expect(killed.get()).rejects.toMatchObject({ exitCode: null, signal: 'SIGKILL', message: expect.stringMatching(/SIGKILL/) });
    const error: unknown = await thrown.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as Error).cause).toBe(uncaught);
    expect((error as Error).message).toMatch(/uncaught in a timer/);
  });

  test('with several unanswered tasks re-sends them one per message, and only the one that kills again fails', async () => {
    const { pool, executor } = fakePool(1);
    const [first] = executor.workers;
    first.ready();
    await learnTasksAreTiny(first, pool.applyAsync(double, [0]));

    const results = [1, 2, 3].map((x) => pool.applyAsync(double, [x]));
    await settle();
    expect(tasksPerRun(first).slice(1)).toEqual([3]);
    first.exit(1);
    await settle();
    expect(results.some((r) => r.ready())).toBe(false);

    const second = executor.workers[1];
    second.ready();
    expect(second.tasks.map((t) => t.payload)).toEqual([[1]]);
    second.answer(double, { busyMs: TINY_MS });
    expect(await results[0]).toBe(2);
    expect(second.tasks.map((t) => t.payload)).toEqual([[1], [2]]);
    second.exit(3); // the task [2] kills its worker when alone: it is the culprit

    await expect(results[1].get()).rejects.toMatchObject({ name: 'WorkerCrashedError', exitCode: 3 });
    const third = executor.workers[2];
    third.ready();
    expect(third.tasks.map((t) => t.payload)).toEqual([[3]]);
    third.answer(double, { busyMs: TINY_MS });
    expect(await results[2]).toBe(6);

    for (const worker of [second, third]) expect(tasksPerRun(worker).every((n) => n === 1)).toBe(true);
  });

  test('isolated re-runs do not hold back work queued after them, which batches again once they are done', async () => {
    const { pool, executor } = fakePool(1);
    const [first] = executor.workers;
    first.ready();
    await learnTasksAreTiny(first, pool.applyAsync(double, [0]));
    const rerun = [1, 2].map((x) => pool.applyAsync(double, [x]));
    await settle();
    first.exit(1);
    const later = range(5, 10).map((x) => pool.applyAsync(double, [x]));
    const second = executor.workers[1];
    second.ready();
    await settle();
    while (second.unanswered.length > 0) {
      second.answer(double, { busyMs: TINY_MS });
      await settle();
    }
    expect(await Promise.all(rerun)).toEqual([2, 4]);
    expect(await Promise.all(later)).toEqual(range(5, 10).map(double));
    expect(tasksPerRun(second)).toEqual([1, 1, 5]);
  });

  test('an idle worker that exits is replaced, with a warning', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const { pool, executor } = fakePool(1);
      executor.workers[0].ready();
      executor.workers[0].exit(9);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/exit code 9/), expect.objectContaining({ code: 'MPOOL_WORKER_EXITED' }));
      expect(executor.alive).toHaveLength(1);
      const result = pool.applyAsync(double, [4]);
      executor.workers[1].ready();
      await settle();
      executor.workers[1].answer(double);
      expect(await result).toBe(8);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('workers that cannot start', () => {
  test('a worker whose initializer threw is terminated and replaced; pending work waits for one that starts', async () => {
    const { pool, executor } = fakePool(1);
    const result = pool.applyAsync(double, [3]);
    executor.workers[0].initFailed(new Error('no database'));
    expect(executor.workers[0].terminateCalls).toBe(1);
    await settle();
    expect(executor.workers).toHaveLength(2);
    executor.workers[1].ready();
    await settle();
    executor.workers[1].answer(double);
    expect(await result).toBe(6);
  });

  test('three start-up failures in a row reject pending work with InitializerError; new work is refused with PoolStateError', async () => {
    const { pool, executor } = fakePool(1);
    const result = pool.applyAsync(double, [3]);
    for (let i = 0; i < 3; i++) {
      executor.workers[i].initFailed(new TypeError('no database'));
      await settle();
    }
    expect(executor.workers).toHaveLength(3);
    const error: unknown = await result.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InitializerError);
    expect((error as Error).message).toMatch(/no database/);
    expect((error as Error).cause).toBeInstanceOf(TypeError);

    let refused: unknown;
    try {
      pool.applyAsync(double, [1]);
    } catch (e) {
      refused = e;
    }
    expect(refused).toBeInstanceOf(PoolStateError);
    expect((refused as Error).cause).toBe(error);
    await expect(pool.map(double, [1, 2])).rejects.toBeInstanceOf(PoolStateError);
    expect(() => pool.imap(double, [1])).toThrow(PoolStateError);
    await settle();
    expect(executor.workers).toHaveLength(3); // it stopped trying
  });

  test('a worker that exits before READY counts as a start-up failure', async () => {
    const { pool, executor } = fakePool(1);
    const result = pool.applyAsync(double, [3]);
    for (let i = 0; i < 3; i++) {
      executor.workers[i].exit(1);
      await settle();
    }
    await expect(result.get()).rejects.toBeInstanceOf(InitializerError);
    expect(executor.workers).toHaveLength(3);
  });

  test('failures separated by a worker that started do not add up', async () => {
    const { pool, executor } = fakePool(1);
    const first = pool.applyAsync(double, [1]);
    executor.workers[0].initFailed(new Error('flaky'));
    await settle();
    executor.workers[1].initFailed(new Error('flaky'));
    await settle();
    executor.workers[2].ready();
    await settle();
    executor.workers[2].answer(double);
    expect(await first).toBe(2);

    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      executor.workers[2].exit(1); // an idle worker's exit is not a start-up failure
    } finally {
      warn.mockRestore();
    }
    await settle();
    const second = pool.applyAsync(double, [2]);
    executor.workers[3].initFailed(new Error('flaky'));
    await settle();
    executor.workers[4].initFailed(new Error('flaky'));
    await settle();
    executor.workers[5].ready();
    await settle();
    executor.workers[5].answer(double);
    expect(await second).toBe(4);
  });

  test('a pool whose workers could not start can still be closed', async () => {
    const { pool, executor } = fakePool(1);
    const result = pool.applyAsync(double, [3]);
    for (let i = 0; i < 3; i++) {
      executor.workers[i].initFailed(new Error('no database'));
      await settle();
    }
    await expect(result.get()).rejects.toBeInstanceOf(InitializerError);
    expect(executor.alive).toEqual([]);
    expect(await hasSettled(pool.close())).toBe(true);
    expect(await hasSettled(pool.join())).toBe(true);
  });
});

describe("a start that runs past the pool's timeout", () => {
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  test('a worker whose initializer runs past the timeout is stopped and replaced; three in a row break the pool with InitializerError', async () => {
    const { pool, executor } = fakePool({ processes: 1, timeout: TIMEOUT_MS });
    const result = pool.applyAsync(double, [3]);
    for (let i = 0; i < 3; i++) {
      executor.workers[i].initializing();
      jest.advanceTimersByTime(TIMEOUT_MS - 1);
      expect(executor.workers[i].terminateCalls).toBe(0);
      jest.advanceTimersByTime(1);
      expect(executor.workers[i].terminateCalls).toBe(1);
      await settle();
    }
    const error: unknown = await result.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InitializerError);
    expect((error as Error).cause).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(new RegExp(`initializer ran past the pool's timeout of ${TIMEOUT_MS} ms`));
    expect(executor.workers).toHaveLength(3);
    expect(await hasSettled(pool.close())).toBe(true);
  });

  test('the clock starts when the initializer does (INITIALIZING), not at the boot, and stops at READY', async () => {
    const { pool, executor } = fakePool({ processes: 1, timeout: TIMEOUT_MS });
    const [worker] = executor.workers;
    jest.advanceTimersByTime(TIMEOUT_MS * 10); // booting: not timed
    worker.initializing();
    jest.advanceTimersByTime(TIMEOUT_MS - 1);
    worker.ready();
    jest.advanceTimersByTime(TIMEOUT_MS * 10);
    expect(worker.terminateCalls).toBe(0);
    const result = pool.applyAsync(double, [4]);
    await settle();
    worker.answer(double);
    expect(await result).toBe(8);
  });

  test("a call's own timeout does not count the wait for a worker to start: its clock starts with its task", async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    const result = pool.applyAsync(double, [5], { timeout: TIMEOUT_MS });
    worker.initializing();
    jest.advanceTimersByTime(TIMEOUT_MS * 10);
    expect(result.ready()).toBe(false);
    expect(worker.terminateCalls).toBe(0);
    worker.ready();
    await settle();
    worker.answer(double);
    expect(await result).toBe(10);
  });
});

describe('a worker that cannot be sent anything any more (its send throws WorkerGoneError)', () => {
  test('is ended, and the tasks it was not sent run on the other workers: none fails', async () => {
    const { pool, executor } = fakePool(2);
    const [leaving, staying] = executor.workers;
    leaving.ready();
    staying.ready();
    await settle();
    leaving.checkSend = () => {
      throw new WorkerGoneError('the worker is on its way out');
    };
    const results = range(6).map((x) => pool.applyAsync(double, [x]));
    await settle();
    expect(leaving.refused.length).toBeGreaterThan(0);
    expect(leaving.terminateCalls).toBe(1);
    const replacement = executor.workers[2];
    replacement.ready();
    // Answer whatever each live worker has, until every result is in (a bounded number of rounds).
    for (let round = 0; round < results.length && !results.every((result) => result.ready()); round++) {
      await settle();
      for (const worker of [staying, replacement]) if (worker.unanswered.length > 0) worker.answer(double, { busyMs: LONG_MS });
    }
    expect(await Promise.all(results.map((result) => result.get()))).toEqual(range(6).map(double));
    expect(leaving.tasks).toEqual([]);
  });
});

describe('tasks that cannot be copied to a worker', () => {
  test('a batch that cannot be sent goes task by task, and only the task that cannot be copied fails with DataCloneError', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    await learnTasksAreTiny(worker, pool.applyAsync(double, [0]));

    const results = [pool.applyAsync(identity, [1]), pool.applyAsync(identity, [() => 0]), pool.applyAsync(identity, [3])];
    await settle();
    // Refused: the batch of three, then the lone task that cannot be copied.
    expect(worker.refused.map((message) => (message.length - 2) / 3)).toEqual([3, 1]);
    expect(tasksPerRun(worker).slice(1)).toEqual([1, 1]);
    expect(worker.tasks.slice(1).map((t) => t.payload)).toEqual([[1], [3]]);
    // The function is new to the worker: its definition goes with the first task that did get through.
    expect(worker.runs[1][1]).toEqual([[worker.tasks[1].fnId, expect.objectContaining({ label: 'identity' })]]);
    expect(worker.runs[2][1]).toBe(0);

    const error: unknown = await results[1].get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataCloneError);
    expect((error as Error).message).toMatch(/could not be copied/);
    worker.answer(identity, { busyMs: TINY_MS });
    expect(await results[0]).toBe(1);
    expect(await results[2]).toBe(3);
  });

  test('when the first task of a batch cannot be copied, the next one still carries the definition', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    await learnTasksAreTiny(worker, pool.applyAsync(double, [0]));

    const bad = pool.applyAsync(identity, [Symbol('not cloneable')]);
    const good = pool.applyAsync(identity, [2]);
    await settle();
    await expect(bad.get()).rejects.toBeInstanceOf(DataCloneError);
    expect(worker.runs[1][1]).toEqual([[worker.tasks[1].fnId, expect.objectContaining({ label: 'identity' })]]);
    worker.answer(identity, { busyMs: TINY_MS });
    expect(await good).toBe(2);
  });

  test('a task with a timeout or a signal that cannot be copied fails alone, and its worker takes the next task', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    await settle();
    const controller = new AbortController();
    await expect(pool.apply(identity, [() => 0], { timeout: LONG_MS })).rejects.toBeInstanceOf(DataCloneError);
    await expect(pool.apply(identity, [() => 0], { signal: controller.signal })).rejects.toBeInstanceOf(DataCloneError);
    const next = pool.applyAsync(double, [21]);
    await settle();
    expect(worker.unanswered).toHaveLength(1);
    worker.answer(double);
    expect(await next).toBe(42);
  });

  test('a send refused for any reason fails only the tasks whose own message is refused', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    await learnTasksAreTiny(worker, pool.applyAsync(double, [0]));
    // Refuse any message carrying the argument 13, as a transfer list or a host object might.
    worker.checkSend = (message) => {
      if (message.some((part) => Array.isArray(part) && part.includes(13))) throw new RangeError('13 cannot travel');
    };
    const results = [12, 13, 14].map((x) => pool.applyAsync(double, [x]));
    await settle();
    await expect(results[1].get()).rejects.toMatchObject({ name: 'DataCloneError', message: expect.stringMatching(/13 cannot travel/) });
    worker.answer(double, { busyMs: TINY_MS });
    expect(await results[0]).toBe(24);
    expect(await results[2]).toBe(28);
  });

  test('a map whose chunk cannot be copied rejects with DataCloneError and sends none of its queued chunks', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    await settle();
    const mapped = pool.mapAsync(identity, [() => 1, 2, 3, 4], 1);
    await settle();
    await expect(mapped.get()).rejects.toBeInstanceOf(DataCloneError);
    expect(worker.tasks).toEqual([]);
  });
});
