/**
 * How the scheduler hands work to workers and results back to their owners, watched message by
 * message over the fake backend.
 */
import { DataCloneError, type AsyncResult } from '@mpool/core';
import { MessageKind, RunMode } from '../src/wire.js';
import { chunkThrew, ok, settle, tasksOf, threw, type FakeWorker } from './fake-executor.js';
import { useFakePools } from './pool-harness.js';

const fakePool = useFakePools();

const double = (x: number): number => x * 2;
const square = (x: number): number => x * x;
const add = (a: number, b: number): number => a + b;

/** Busy time per task small enough that the in-flight allowance reaches its maximum. */
const TINY_MS = 0.000001;
/** Busy time per task long enough that tasks go one at a time. */
const LONG_MS = 50;
/** The documented bound on items in flight per worker. */
const MAX_IN_FLIGHT = 1024;

function range(n: number, from = 0): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}

/** Runs one task to completion on `worker`, reporting `busyMs`, so that the pool learns a task's duration. */
async function warmUp(worker: FakeWorker, results: AsyncResult<unknown>[], busyMs: number): Promise<void> {
  await settle();
  expect(worker.unanswered).toHaveLength(1);
  worker.answer(double, { busyMs });
  await Promise.all(results);
}

describe('starting workers', () => {
  test('the pool starts `processes` workers, with no initializer unless given one', () => {
    const { executor } = fakePool(3);
    expect(executor.workers).toHaveLength(3);
    for (const worker of executor.workers) expect(worker.init).toEqual({ initializer: undefined, initargs: [] });
  });

  test('nothing is sent to a worker before it replies READY', async () => {
    const { pool, executor } = fakePool(2);
    const result = pool.applyAsync(double, [1]);
    await settle();
    expect(executor.workers.map((w) => w.sent)).toEqual([[], []]);
    expect(result.ready()).toBe(false);

    executor.workers[1].ready();
    expect(executor.workers[1].tasks).toEqual([{ fnId: expect.any(Number), mode: RunMode.Apply, payload: [1] }]);
    expect(executor.workers[0].sent).toEqual([]);

    executor.workers[1].answer(double);
    expect(await result).toBe(2);
  });

  test('a worker that becomes ready with no work pending is sent nothing', async () => {
    const { executor } = fakePool(2);
    for (const worker of executor.workers) worker.ready();
    await settle();
    expect(executor.workers.map((w) => w.sent)).toEqual([[], []]);
  });
});

describe('batching', () => {
  test('while the duration of a task is unknown, a worker gets one task at a time', async () => {
    const { pool, executor } = fakePool(1);
    const results = range(5).map((x) => pool.applyAsync(double, [x]));
    const [worker] = executor.workers;
    worker.ready();
    await settle();
    expect(worker.runs).toHaveLength(1);
    expect(worker.unanswered).toHaveLength(1);
    worker.answer(double, { busyMs: 0 }); // no busy time reported: still unknown
    await settle();
    expect(worker.unanswered).toHaveLength(1);
    for (let i = 0; i < 4; i++) {
      worker.answer(double, { busyMs: 0 });
      await settle();
    }
    expect(await Promise.all(results)).toEqual(range(5).map(double));
    expect(worker.runs.map((run) => (run.length - 2) / 3)).toEqual([1, 1, 1, 1, 1]);
  });

  test('tiny tasks queued deep travel many to one RUN message, and one RESULTS message answers them all', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    await warmUp(worker, [pool.applyAsync(double, [0])], TINY_MS);

    const results = range(20, 1).map((x) => pool.applyAsync(double, [x]));
    await settle();
    expect(worker.runs).toHaveLength(2);
    const batch = worker.runs[1];
    expect(batch[0]).toBe(MessageKind.Run);
    expect(batch.length).toBe(2 + 3 * 20);
    expect(worker.tasks.slice(1).map((t) => t.payload)).toEqual(range(20, 1).map((x) => [x]));

    worker.answer(double, { busyMs: 20 * TINY_MS });
    expect(results.every((r) => r.ready())).toBe(true);
    expect(await Promise.all(results)).toEqual(range(20, 1).map(double));
  });

  test('with tiny tasks a worker is kept more than one message ahead, up to the in-flight bound', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    await warmUp(worker, [pool.applyAsync(double, [0])], TINY_MS);

    const results = range(3000).map((x) => pool.applyAsync(double, [x]));
    await settle();
    const inFlight = worker.unanswered.length;
    expect(inFlight).toBeGreaterThan(1);
    expect(inFlight).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    // The allowance is split over messages, so the worker has the next one while it runs this one.
    expect(worker.runs.length - 1).toBeGreaterThanOrEqual(2);

    while (worker.unanswered.length > 0) {
      expect(worker.unanswered.length).toBeLessThanOrEqual(MAX_IN_FLIGHT);
      worker.answer(double, { count: Math.min(300, worker.unanswered.length), busyMs: 300 * TINY_MS });
      await settle();
    }
    expect(await Promise.all(results)).toEqual(range(3000).map(double));
  });

  test('tiny chunks too big for the allowance queue up on their worker: the first goes alone, the rest travel together', async () => {
    const { pool, executor } = fakePool(2);
    for (const worker of executor.workers) worker.ready();
    await warmUp(executor.workers[0], [pool.applyAsync(double, [0])], TINY_MS);

    // 8 chunks of 2,000 tiny items: each over the 1,024-item bound, all of them together well
    // under a millisecond of work.
    const earlier = executor.workers.map((w) => w.runs.length);
    const mapped = pool.map(double, range(16_000), 2_000);
    mapped.catch(() => undefined); // a failed expectation below must not leave it unhandled
    await settle();
    // Each worker got its share at once: one chunk in a message of its own, so that both start
    // as early as they can, then the other three in one message.
    expect(executor.workers.map((w) => w.unanswered.length)).toEqual([4, 4]);
    expect(executor.workers.map((w, i) => w.runs.slice(earlier[i]).map((message) => tasksOf(message).length))).toEqual([
      [1, 3],
      [1, 3],
    ]);
    for (const worker of executor.workers) worker.answer(double, { busyMs: 8_000 * TINY_MS });
    expect(await mapped).toEqual(range(16_000).map(double));
  });

  test('a chunk of over a millisecond waits behind at most one other, so none waits long while another worker may be free', async () => {
    const { pool, executor } = fakePool(2);
    for (const worker of executor.workers) worker.ready();
    // 0.75 µs an item: a chunk of 2,000 takes 1.5 ms, over the 1 ms allowance.
    const ITEM_MS = 0.00075;
    await warmUp(executor.workers[0], [pool.applyAsync(double, [0])], ITEM_MS);

    const mapped = pool.map(double, range(16_000), 2_000);
    mapped.catch(() => undefined);
    await settle();
    expect(executor.workers.map((w) => w.unanswered.length)).toEqual([2, 2]);
    while (executor.workers.some((w) => w.unanswered.length > 0)) {
      for (const worker of executor.workers) {
        expect(worker.unanswered.length).toBeLessThanOrEqual(2);
        if (worker.unanswered.length > 0) worker.answer(double, { count: 1, busyMs: 2_000 * ITEM_MS });
        await settle();
      }
    }
    expect(await mapped).toEqual(range(16_000).map(double));
  });

  test('big buffers go one to a message, and a worker has at most 2 MiB of them in flight', async () => {
    const { pool, executor } = fakePool(2);
    for (const worker of executor.workers) worker.ready();
    await warmUp(executor.workers[0], [pool.applyAsync(double, [0])], TINY_MS);
    const earlier = executor.workers.map((w) => w.runs.length);

    const MIB = 1 << 20;
    const sizeOf = (bytes: Uint8Array): number => bytes.byteLength;
    const results = range(8).map(() => pool.applyAsync(sizeOf, [new Uint8Array(MIB)]));
    await settle();
    expect(executor.workers.map((w) => w.unanswered.length)).toEqual([2, 2]);
    expect(executor.workers.map((w, i) => w.runs.slice(earlier[i]).map((message) => tasksOf(message).length))).toEqual([
      [1, 1],
      [1, 1],
    ]);
    while (executor.workers.some((w) => w.unanswered.length > 0)) {
      for (const worker of executor.workers) {
        expect(worker.unanswered.length).toBeLessThanOrEqual(2);
        if (worker.unanswered.length > 0) worker.answer(sizeOf, { count: 1, busyMs: TINY_MS });
        await settle();
      }
    }
    expect(await Promise.all(results)).toEqual(range(8).map(() => MIB));
  });

  test('tiny tasks, however quick, are not stacked behind one another on one worker while the other is free', async () => {
    const { pool, executor } = fakePool(2);
    for (const worker of executor.workers) worker.ready();
    await warmUp(executor.workers[0], [pool.applyAsync(double, [0])], TINY_MS);

    const results = [pool.applyAsync(double, [1]), pool.applyAsync(double, [2])];
    await settle();
    expect(executor.workers.map((w) => w.unanswered.length)).toEqual([1, 1]);
    for (const worker of executor.workers) worker.answer(double, { busyMs: TINY_MS });
    expect(await Promise.all(results)).toEqual([2, 4]);
  });

  test('long tasks go one at a time to each worker', async () => {
    const { pool, executor } = fakePool(2);
    const results = range(8).map((x) => pool.applyAsync(double, [x]));
    for (const worker of executor.workers) worker.ready();
    await settle();
    while (executor.workers.some((w) => w.unanswered.length > 0)) {
      for (const worker of executor.workers) {
        expect(worker.unanswered.length).toBeLessThanOrEqual(1);
        if (worker.unanswered.length > 0) worker.answer(double, { busyMs: LONG_MS });
        await settle();
      }
    }
    expect(await Promise.all(results)).toEqual(range(8).map(double));
    for (const worker of executor.workers) {
      expect(worker.runs.every((run) => run.length === 2 + 3)).toBe(true);
    }
    // Spread over both workers rather than piled on one.
    expect(executor.workers.map((w) => w.tasks.length)).toEqual([4, 4]);
  });

  test('the in-flight allowance shrinks to one when tiny tasks turn out long', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    await warmUp(worker, [pool.applyAsync(double, [0])], TINY_MS);

    const many = range(10).map((x) => pool.applyAsync(double, [x]));
    await settle();
    expect(worker.unanswered).toHaveLength(10);
    worker.answer(double, { busyMs: 10 * LONG_MS });
    await Promise.all(many);

    const later = range(3).map((x) => pool.applyAsync(double, [x]));
    await settle();
    expect(worker.unanswered).toHaveLength(1);
    while (worker.unanswered.length > 0) {
      expect(worker.unanswered).toHaveLength(1);
      worker.answer(double, { busyMs: LONG_MS });
      await settle();
    }
    expect(await Promise.all(later)).toEqual([0, 2, 4]);
  });

  test('the in-flight allowance grows again within a few batches once long tasks turn tiny', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    await warmUp(worker, [pool.applyAsync(double, [0])], LONG_MS);

    const results = range(100).map((x) => pool.applyAsync(double, [x]));
    await settle();
    let messages = 0;
    while (worker.unanswered.length === 1 && messages < 20) {
      worker.answer(double, { busyMs: TINY_MS });
      messages++;
      await settle();
    }
    expect(worker.unanswered.length).toBeGreaterThan(1);
    expect(messages).toBeLessThanOrEqual(12);
    worker.answer(double, { busyMs: TINY_MS });
    await settle();
    while (worker.unanswered.length > 0) {
      worker.answer(double, { busyMs: TINY_MS });
      await settle();
    }
    expect(await Promise.all(results)).toEqual(range(100).map(double));
  });
});

describe('function definitions', () => {
  test("a function's definition travels in the first RUN message to each worker that needs it, and only then", async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    for (const [fn, x] of [[double, 1], [double, 2], [square, 3], [double, 4], [square, 5]] as const) {
      const result = pool.applyAsync(fn, [x]);
      await settle();
      worker.answer(fn, { busyMs: LONG_MS });
      expect(await result).toBe(fn(x));
    }
    const defs = worker.runs.map((run) => run[1]);
    const [doubleId, squareId] = [worker.tasks[0].fnId, worker.tasks[2].fnId];
    expect(doubleId).not.toBe(squareId);
    expect(defs).toEqual([
      [[doubleId, { kind: 'source', source: double.toString(), label: 'double' }]],
      0,
      [[squareId, { kind: 'source', source: square.toString(), label: 'square' }]],
      0,
      0,
    ]);
  });

  test('every worker is sent the definition once, in its own first message', async () => {
    const { pool, executor } = fakePool(2);
    const results = range(6).map((x) => pool.applyAsync(double, [x]));
    for (const worker of executor.workers) worker.ready();
    await settle();
    while (executor.workers.some((w) => w.unanswered.length > 0)) {
      for (const worker of executor.workers) if (worker.unanswered.length > 0) worker.answer(double, { busyMs: LONG_MS });
      await settle();
    }
    await Promise.all(results);
    for (const worker of executor.workers) {
      const withDefs = worker.runs.filter((run) => run[1] !== 0);
      expect(withDefs).toEqual([worker.runs[0]]);
    }
  });

  test('the same function passed twice, or an equal copy of it, is one definition', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    const copy = (x: number): number => x * 2;
    const results = [pool.applyAsync(double, [1]), pool.applyAsync(double, [2]), pool.applyAsync(copy, [3])];
    await settle();
    worker.answer(double, { busyMs: TINY_MS });
    await settle();
    worker.answer(double, { busyMs: TINY_MS });
    expect(await Promise.all(results)).toEqual([2, 4, 6]);
    expect(worker.tasks).toHaveLength(3);
    expect(new Set(worker.tasks.map((t) => t.fnId)).size).toBe(1);
    expect(worker.runs.filter((run) => run[1] !== 0)).toHaveLength(1);
  });
});

describe('results', () => {
  test('results map back by order to the right AsyncResults, whichever worker answers first and however they are split', async () => {
    const { pool, executor } = fakePool(2);
    const results = range(12, 1).map((x) => pool.applyAsync(double, [x]));
    const [first, second] = executor.workers;
    first.ready();
    second.ready();
    await settle();
    second.answer(double, { busyMs: TINY_MS });
    expect(results.filter((r) => r.ready())).toHaveLength(1);
    await settle();
    // Answer in pieces, alternating workers, until everything is done.
    let turn = 0;
    while (executor.workers.some((w) => w.unanswered.length > 0)) {
      const worker = executor.workers[turn++ % 2];
      if (worker.unanswered.length > 0) worker.answer(double, { count: Math.min(2, worker.unanswered.length), busyMs: TINY_MS });
      await settle();
    }
    expect(await Promise.all(results)).toEqual(range(12, 1).map(double));
    expect(first.tasks.length).toBeGreaterThan(0);
    expect(second.tasks.length).toBeGreaterThan(0);
  });

  test('a task that threw rejects its own result with the error rebuilt; its neighbours in the batch succeed', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    await warmUp(worker, [pool.applyAsync(double, [0])], TINY_MS);
    const results = range(3).map((x) => pool.applyAsync(double, [x]));
    await settle();
    expect(worker.unanswered).toHaveLength(3);
    const error = Object.assign(new RangeError('too big'), { code: 'E_BIG' });
    worker.reply(TINY_MS, ok(0), threw(error), ok(4));
    expect(await results[0]).toBe(0);
    await expect(results[1].get()).rejects.toMatchObject({ name: 'RangeError', message: 'too big', code: 'E_BIG' });
    await expect(results[1].get()).rejects.toBeInstanceOf(RangeError);
    expect(await results[2]).toBe(4);
  });

  test('a result the worker could not copy back rejects only that task with DataCloneError', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    await warmUp(worker, [pool.applyAsync(double, [0])], TINY_MS);
    const results = range(2).map((x) => pool.applyAsync(double, [x]));
    await settle();
    worker.reply(TINY_MS, [3, 'function could not be cloned'], ok(2));
    await expect(results[0].get()).rejects.toBeInstanceOf(DataCloneError);
    await expect(results[0].get()).rejects.toThrow(/function could not be cloned/);
    expect(await results[1]).toBe(2);
  });
});

describe('map chunks', () => {
  test('chunks answered out of order reassemble in input order', async () => {
    const { pool, executor } = fakePool(2);
    const mapped = pool.mapAsync(square, range(10), 3);
    const [first, second] = executor.workers;
    first.ready();
    second.ready();
    await settle();
    expect(first.tasks).toEqual([{ fnId: expect.any(Number), mode: RunMode.Map, payload: [0, 1, 2] }]);
    expect(second.tasks).toEqual([{ fnId: expect.any(Number), mode: RunMode.Map, payload: [3, 4, 5] }]);
    // The second worker runs everything else before the first answers.
    while (second.unanswered.length > 0) {
      second.answer(square, { busyMs: LONG_MS });
      await settle();
    }
    expect(second.tasks.map((t) => t.payload)).toEqual([[3, 4, 5], [6, 7, 8], [9]]);
    expect(mapped.ready()).toBe(false);
    first.answer(square, { busyMs: LONG_MS });
    expect(await mapped).toEqual(range(10).map(square));
  });

  test('starmap chunks carry argument lists and reassemble in input order', async () => {
    const { pool, executor } = fakePool(1);
    const pairs: [number, number][] = range(5).map((x) => [x, 10 * x]);
    const result = pool.starmapAsync(add, pairs, 2);
    const [worker] = executor.workers;
    worker.ready();
    await settle();
    while (worker.unanswered.length > 0) {
      worker.answer(add, { busyMs: LONG_MS });
      await settle();
    }
    expect(worker.tasks.map((t) => t.mode)).toEqual([RunMode.Starmap, RunMode.Starmap, RunMode.Starmap]);
    expect(worker.tasks.map((t) => t.payload)).toEqual([pairs.slice(0, 2), pairs.slice(2, 4), pairs.slice(4)]);
    expect(await result).toEqual(pairs.map(([a, b]) => a + b));
  });

  test('without a chunksize the input is cut in about four chunks per worker', async () => {
    const { pool, executor } = fakePool(2);
    const result = pool.mapAsync(square, range(100));
    for (const worker of executor.workers) worker.ready();
    await settle();
    while (executor.workers.some((w) => w.unanswered.length > 0)) {
      for (const worker of executor.workers) if (worker.unanswered.length > 0) worker.answer(square, { busyMs: LONG_MS });
      await settle();
    }
    expect(await result).toEqual(range(100).map(square));
    const sizes = executor.workers.flatMap((w) => w.tasks.map((t) => (t.payload as unknown[]).length)).sort((a, b) => b - a);
    expect(sizes).toEqual([13, 13, 13, 13, 13, 13, 13, 9]);
  });

  test('a chunk that stopped at an item rejects the map with that item’s error', async () => {
    const { pool, executor } = fakePool(1);
    const result = pool.mapAsync(square, range(4), 4);
    const [worker] = executor.workers;
    worker.ready();
    await settle();
    worker.reply(LONG_MS, chunkThrew(2, [0, 1], new TypeError('bad item')));
    await expect(result.get()).rejects.toThrow(new TypeError('bad item'));
  });
});
