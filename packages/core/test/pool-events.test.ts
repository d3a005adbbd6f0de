/**
 * A pool's events, its backpressure (`maxQueue`, `queueFull`, `drained()`), a map's progress and
 * the data every worker is given, over the fake backend.
 */
import { DataCloneError, QueueFullError, WorkerCrashedError } from '@mpool/core';
import { MessageKind } from '../src/wire.js';
import { hasSettled, settle, threw } from './fake-executor.js';
import { useFakePools } from './pool-harness.js';

const fakePool = useFakePools();

const double = (x: number): number => x * 2;
const LONG_MS = 50;

describe('events', () => {
  test('a worker starting, a task failing, its worker dying and being replaced, the queue draining: in that order', async () => {
    const { pool, executor } = fakePool(1);
    const seen: unknown[] = [];
    pool.on('workerStart', (worker) => seen.push(['workerStart', worker.id]));
    pool.on('taskFailed', (error, task) => seen.push(['taskFailed', (error as Error).name, task.items]));
    pool.on('workerExit', (worker) => seen.push(['workerExit', worker]));
    pool.on('drain', () => seen.push(['drain']));

    const thrown = pool.applyAsync(double, [1]);
    const [first] = executor.workers;
    first.ready();
    await settle();
    first.reply(LONG_MS, threw(new TypeError('bad')));
    await thrown.wait();
    const doomed = pool.applyAsync(double, [2]);
    await settle();
    first.exit(7);
    await doomed.wait();
    await settle();
    executor.workers[1].ready();
    await settle();

    expect(seen).toEqual([
      ['workerStart', first.id],
      ['drain'],
      ['taskFailed', 'TypeError', 1],
      ['drain'],
      ['taskFailed', 'WorkerCrashedError', 1],
      ['workerExit', { id: first.id, code: 7, signal: null, crashed: true, replaced: true }],
      ['workerStart', executor.workers[1].id],
    ]);
  });

  test("'taskFailed' names the task and counts a chunk's items, with the error the call gets", async () => {
    const { pool, executor } = fakePool(1);
    const failures: [unknown, unknown][] = [];
    pool.on('taskFailed', (error, task) => failures.push([error, task]));
    const mapped = pool.map(function tripleIt(x: number) {
      return x * 3;
    }, [1, 2, 3], 3);
    executor.workers[0].ready();
    await settle();
    executor.workers[0].reply(LONG_MS, threw(new RangeError('no')));
    const error = await mapped.catch((e: unknown) => e);
    await settle();
    expect(failures).toEqual([[error, { task: 'tripleIt', items: 3 }]]);
  });

  test("'workerExit' tells a crash's own error; a worker stopped by the pool is neither crashed nor, on close(), replaced", async () => {
    const { pool, executor } = fakePool(1);
    const exits: unknown[] = [];
    pool.on('workerExit', (worker) => exits.push(worker));
    executor.workers[0].ready();
    const uncaught = new Error('from a timer');
    const doomed = pool.applyAsync(double, [1]);
    await settle();
    executor.workers[0].exit(1, null, uncaught);
    await expect(doomed.get()).rejects.toBeInstanceOf(WorkerCrashedError);
    executor.workers[1].ready();
    const closed = pool.close();
    await executor.workers[1].received(MessageKind.Stop);
    executor.workers[1].exit(0);
    await closed;
    expect(exits).toEqual([
      { id: executor.workers[0].id, code: 1, signal: null, error: uncaught, crashed: true, replaced: true },
      { id: executor.workers[1].id, code: 0, signal: null, crashed: false, replaced: false },
    ]);
  });

  test('once() hears one event; off() stops a listener; listeners run after the step, not inside it', async () => {
    const { pool, executor } = fakePool(2);
    const counts = { once: 0, on: 0, off: 0 };
    const off = (): void => {
      counts.off++;
    };
    pool.once('workerStart', () => counts.once++);
    pool.on('workerStart', () => counts.on++);
    pool.on('workerStart', off);
    pool.off('workerStart', off);
    executor.workers[0].ready();
    executor.workers[1].ready();
    expect(counts).toEqual({ once: 0, on: 0, off: 0 });
    await settle();
    expect(counts).toEqual({ once: 1, on: 2, off: 0 });
  });

  test('an unknown event or a listener that is not a function is refused', () => {
    const { pool } = fakePool(1);
    expect(() => pool.on('workerExited' as 'workerExit', () => undefined)).toThrow(new TypeError("Expected one of the pool's events ('workerStart', 'workerExit', 'taskFailed', 'drain'), got `workerExited`"));
    expect(() => pool.on('drain', 'x' as unknown as () => void)).toThrow(TypeError);
  });
});

describe('backpressure', () => {
  test('past maxQueue waiting tasks every call is refused with QueueFullError; drained() resolves once the queue is empty', async () => {
    const { pool, executor } = fakePool({ processes: 1, maxQueue: 2 });
    const accepted = [1, 2].map((x) => pool.applyAsync(double, [x]));
    expect(pool.queueFull).toBe(true);
    expect(() => pool.applyAsync(double, [3])).toThrow(QueueFullError);
    expect(() => pool.imap(double, [3])).toThrow(QueueFullError);
    await expect(pool.apply(double, [3])).rejects.toBeInstanceOf(QueueFullError);
    await expect(pool.map(double, [3])).rejects.toBeInstanceOf(QueueFullError);
    await expect(pool.starmap((a: number, b: number) => a + b, [[1, 2]])).rejects.toThrow(/maxQueue 2/);
    expect(pool.stats().tasks.queued).toBe(2);

    const drained = pool.drained();
    const [worker] = executor.workers;
    worker.ready();
    await settle();
    // One is sent (the pool does not yet know how long a task takes); one still waits.
    expect(await hasSettled(drained)).toBe(false);
    expect(pool.queueFull).toBe(false);
    const third = pool.applyAsync(double, [3]);
    worker.answer(double, { busyMs: LONG_MS });
    await settle();
    worker.answer(double, { busyMs: LONG_MS });
    await settle();
    expect(await hasSettled(drained)).toBe(true);
    worker.answer(double, { busyMs: LONG_MS });
    expect(await Promise.all([...accepted, third])).toEqual([2, 4, 6]);
  });

  test("drained() resolves at once on an empty queue; a 'drain' event comes each time the queue empties", async () => {
    const { pool, executor } = fakePool(1);
    expect(await hasSettled(pool.drained())).toBe(true);
    let drains = 0;
    pool.on('drain', () => drains++);
    const [worker] = executor.workers;
    worker.ready();
    for (const x of [1, 2]) {
      const result = pool.applyAsync(double, [x]);
      await settle();
      worker.answer(double, { busyMs: LONG_MS });
      await result;
    }
    expect(drains).toBe(2);
  });

  test('a map let in queues all its chunks, past maxQueue', async () => {
    const { pool, executor } = fakePool({ processes: 1, maxQueue: 1 });
    const mapped = pool.map(double, [1, 2, 3, 4], 1);
    expect(pool.stats().tasks.queued).toBe(4);
    const [worker] = executor.workers;
    worker.ready();
    while ((await hasSettled(mapped)) === false) worker.answer(double, { busyMs: LONG_MS, count: worker.unanswered.length });
    expect(await mapped).toEqual([2, 4, 6, 8]);
  });

  test('maxQueue must be an integer ≥ 1, or Infinity', () => {
    expect(() => fakePool({ processes: 1, maxQueue: 0 })).toThrow(new RangeError('Expected `maxQueue` to be an integer ≥ 1, got `0`'));
    expect(() => fakePool({ processes: 1, maxQueue: '10' as unknown as number })).toThrow(TypeError);
    expect(fakePool({ processes: 1, maxQueue: Infinity }).pool.queueFull).toBe(false);
  });
});

describe('progress of a map', () => {
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  test('onProgress(done, total) as chunks complete, at most every 10 ms, in order, the last call (total, total)', async () => {
    const { pool, executor } = fakePool(1);
    const calls: [number, number][] = [];
    const mapped = pool.mapAsync(double, [1, 2, 3, 4, 5, 6, 7], { chunksize: 2, onProgress: (done, total) => calls.push([done, total]) });
    const [worker] = executor.workers;
    worker.ready();
    const answerOne = async (): Promise<void> => {
      await settle();
      worker.answer(double, { busyMs: LONG_MS, count: 1 });
      await settle();
    };
    await answerOne(); // the first chunk: told at once
    await answerOne(); // 0 ms later: not told
    jest.advanceTimersByTime(10);
    await answerOne(); // 10 ms later: told
    await answerOne(); // the last: always told
    expect(await mapped).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(calls).toEqual([[2, 7], [6, 7], [7, 7]]);
  });

  test('starmap and an empty map end with (total, total) too; a failed map stops telling', async () => {
    const { pool, executor } = fakePool(1);
    const calls: [number, number][] = [];
    const onProgress = (done: number, total: number): void => {
      calls.push([done, total]);
    };
    expect(await pool.map(double, [], { onProgress })).toEqual([]);
    const [worker] = executor.workers;
    worker.ready();
    const summed = pool.starmap((a: number, b: number) => a + b, [[1, 2], [3, 4]], { chunksize: 2, onProgress });
    await settle();
    worker.answer((a: number, b: number) => a + b, { busyMs: LONG_MS });
    expect(await summed).toEqual([3, 7]);
    const failed = pool.map(double, [1, 2, 3, 4], { chunksize: 2, onProgress });
    await settle();
    worker.reply(LONG_MS, threw(new RangeError('no')));
    await expect(failed).rejects.toBeInstanceOf(RangeError);
    expect(calls).toEqual([[0, 0], [2, 2]]);
  });

  test('imaps take no onProgress: they yield their progress', () => {
    const { pool } = fakePool(1);
    expect(() => pool.imap(double, [1], { onProgress: () => undefined } as object)).toThrow(new TypeError('Unknown option `onProgress`; this call takes timeout, signal, chunksize'));
  });
});

describe('workerData', () => {
  test('every worker, replacements included, is given a copy of it', async () => {
    const data = { model: 'm.bin', sizes: new Map([['a', 1]]) };
    const { pool, executor } = fakePool({ processes: 1, workerData: data });
    const doomed = pool.applyAsync(double, [1]);
    executor.workers[0].ready();
    await settle();
    executor.workers[0].exit(1);
    await doomed.wait();
    expect(executor.workers.map((worker) => worker.init.workerData)).toEqual([data, data]);
  });

  test('workerData that cannot be copied is refused when the pool is made', () => {
    expect(() => fakePool({ processes: 1, workerData: { f: () => 1 } })).toThrow(DataCloneError);
  });
});
