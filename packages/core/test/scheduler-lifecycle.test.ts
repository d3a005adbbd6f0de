/**
 * The pool's lifecycle as its workers see it: close, terminate, join, recycling with
 * maxtasksperchild, keeping the process alive only while there is work, and withdrawn work.
 */
import { PoolStateError } from '@mpool/core';
import { MessageKind } from '../src/wire.js';
import { chunkThrew, hasSettled, settle, type FakeExecutor } from './fake-executor.js';
import { useFakePools } from './pool-harness.js';

const fakePool = useFakePools();

const double = (x: number): number => x * 2;

const TINY_MS = 0.000001;
const LONG_MS = 50;

function range(n: number, from = 0): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}

/** Answers every unanswered task on every live worker, round after round, until none is left. */
async function answerEverything(executor: FakeExecutor, busyMs: number): Promise<void> {
  await settle();
  while (executor.alive.some((w) => w.unanswered.length > 0)) {
    for (const worker of executor.alive) if (worker.unanswered.length > 0) worker.answer(double, { busyMs });
    await settle();
  }
}

function stops(executor: FakeExecutor): number[] {
  return executor.workers.map((w) => w.sent.filter((m) => m[0] === MessageKind.Stop).length);
}

describe('close()', () => {
  test('workers get STOP once, after all pending work is done, and close() resolves when every worker has exited', async () => {
    const { pool, executor } = fakePool(2);
    const results = [1, 2, 3].map((x) => pool.applyAsync(double, [x]));
    for (const worker of executor.workers) worker.ready();
    await settle();
    const closed = pool.close();
    expect(pool.state).toBe('closed');
    expect(() => pool.applyAsync(double, [4])).toThrow(PoolStateError);

    const [first, second] = executor.workers;
    first.answer(double, { busyMs: LONG_MS });
    await settle();
    expect(stops(executor)).toEqual([0, 0]); // the third task went to the first worker
    second.answer(double, { busyMs: LONG_MS });
    await settle();
    expect(first.stopped).toBe(false); // still running the third task
    first.answer(double, { busyMs: LONG_MS });
    await settle();
    expect(stops(executor)).toEqual([1, 1]);
    expect(await Promise.all(results)).toEqual([2, 4, 6]);

    expect(await hasSettled(closed)).toBe(false);
    first.exit(0);
    expect(await hasSettled(closed)).toBe(false);
    second.exit(0);
    expect(await hasSettled(closed)).toBe(true);
    expect(await hasSettled(pool.join())).toBe(true);
    expect(stops(executor)).toEqual([1, 1]);
    expect(executor.workers).toHaveLength(2); // a worker that stopped as asked is not replaced
  });

  test('work queued before close() still runs, on workers that start after it', async () => {
    const { pool, executor } = fakePool(1);
    const results = range(4).map((x) => pool.applyAsync(double, [x]));
    const closed = pool.close();
    const [worker] = executor.workers;
    worker.ready();
    await answerEverything(executor, LONG_MS);
    expect(await Promise.all(results)).toEqual(range(4).map(double));
    expect(worker.stopped).toBe(true);
    worker.exit(0);
    await closed;
  });

  test('close() on an idle pool stops ready workers at once and ends those still starting', async () => {
    const { pool, executor } = fakePool(2);
    const [ready, starting] = executor.workers;
    ready.ready();
    const closed = pool.close();
    expect(ready.stopped).toBe(true);
    expect(starting.sent).toEqual([]);
    expect(starting.terminateCalls).toBe(1);
    ready.exit(0);
    await closed;
    expect(executor.alive).toEqual([]);
  });

  test('close() ends a worker stuck in its initializer once the work waiting for it is withdrawn', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    const controller = new AbortController();
    const result = pool.applyAsync(double, [6], { signal: controller.signal });
    worker.initializing();
    const closing = pool.close();
    expect(await hasSettled(closing)).toBe(false);
    controller.abort();
    await expect(result.get()).rejects.toHaveProperty('name', 'AbortError');
    expect(worker.terminateCalls).toBe(1);
    expect(await hasSettled(closing)).toBe(true);
  });

  test('a worker that crashes while the pool is closing is replaced to finish the work', async () => {
    const { pool, executor } = fakePool(1);
    const results = [pool.applyAsync(double, [1]), pool.applyAsync(double, [2])];
    executor.workers[0].ready();
    await settle();
    const closed = pool.close();
    executor.workers[0].exit(1);
    await expect(results[0].get()).rejects.toMatchObject({ name: 'WorkerCrashedError' });
    expect(executor.workers).toHaveLength(2);
    executor.workers[1].ready();
    await answerEverything(executor, LONG_MS);
    expect(await results[1]).toBe(4);
    expect(executor.workers[1].stopped).toBe(true);
    executor.workers[1].exit(0);
    await closed;
  });

  test('join() rejects with PoolStateError while the pool runs', async () => {
    const { pool } = fakePool(1);
    await expect(pool.join()).rejects.toBeInstanceOf(PoolStateError);
  });
});

describe('terminate()', () => {
  test('rejects every pending result with PoolStateError and terminates every worker', async () => {
    const { pool, executor } = fakePool(2);
    const results = [1, 2, 3].map((x) => pool.applyAsync(double, [x]));
    const mapped = pool.mapAsync(double, [1, 2, 3], 1);
    executor.workers[0].ready();
    await settle();
    const done = pool.terminate();
    expect(pool.state).toBe('terminated');
    for (const result of [...results, mapped]) await expect(result.get()).rejects.toBeInstanceOf(PoolStateError);
    expect(executor.workers.map((w) => w.terminateCalls)).toEqual([1, 1]);
    await done;
    expect(executor.alive).toEqual([]);
    expect(executor.workers).toHaveLength(2); // nothing replaced
    expect(() => pool.applyAsync(double, [1])).toThrow(PoolStateError);
  });

  test('resolves only once every worker has exited', async () => {
    const { pool, executor } = fakePool(2, { exitOnTerminate: false });
    for (const worker of executor.workers) worker.ready();
    const done = pool.terminate();
    expect(await hasSettled(done)).toBe(false);
    executor.workers[0].exit(1);
    expect(await hasSettled(done)).toBe(false);
    executor.workers[1].exit(1);
    expect(await hasSettled(done)).toBe(true);
    expect(await hasSettled(pool.join())).toBe(true);
  });

  test('results a terminated worker sends late are ignored', async () => {
    const { pool, executor } = fakePool(1, { exitOnTerminate: false });
    const result = pool.applyAsync(double, [1]);
    const [worker] = executor.workers;
    worker.ready();
    await settle();
    void pool.terminate();
    worker.answer(double);
    await expect(result.get()).rejects.toBeInstanceOf(PoolStateError);
  });

  test('after close(), terminate() fails what is still pending', async () => {
    const { pool, executor } = fakePool(1);
    const result = pool.applyAsync(double, [1]);
    executor.workers[0].ready();
    const closed = pool.close();
    await pool.terminate();
    await expect(result.get()).rejects.toBeInstanceOf(PoolStateError);
    expect(await hasSettled(closed)).toBe(true);
  });
});

describe('keeping the process alive', () => {
  test('workers are unref’d while idle, ref’d while work is pending, and unref’d again when it is done', async () => {
    const { pool, executor } = fakePool(2);
    expect(executor.workers.map((w) => w.referenced)).toEqual([false, false]);
    const result = pool.applyAsync(double, [1]);
    expect(executor.workers.map((w) => w.referenced)).toEqual([true, true]);
    executor.workers[0].ready();
    await settle();
    executor.workers[0].answer(double);
    await result;
    expect(executor.workers.map((w) => w.referenced)).toEqual([false, false]);
  });

  test('a replacement started while work is pending keeps the process alive; one started while idle does not', async () => {
    const { pool, executor } = fakePool(1);
    const results = [pool.applyAsync(double, [1]), pool.applyAsync(double, [2])];
    executor.workers[0].ready();
    await settle();
    executor.workers[0].exit(1);
    await expect(results[0].get()).rejects.toMatchObject({ name: 'WorkerCrashedError' });
    expect(executor.workers[1].referenced).toBe(true);
    executor.workers[1].ready();
    await settle();
    executor.workers[1].answer(double);
    await results[1];
    expect(executor.workers[1].referenced).toBe(false);

    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      executor.workers[1].exit(1);
    } finally {
      warn.mockRestore();
    }
    expect(executor.workers[2].referenced).toBe(false);
  });
  test('workers keep the process alive while the pool shuts down, so that close() sees them exit', async () => {
    const { pool, executor } = fakePool(2);
    for (const worker of executor.workers) worker.ready();
    expect(executor.workers.map((w) => w.referenced)).toEqual([false, false]);
    const closed = pool.close();
    expect(executor.workers.map((w) => w.referenced)).toEqual([true, true]);
    for (const worker of executor.workers) worker.exit(0);
    await closed;
  });
});

describe('maxtasksperchild', () => {
  test('a worker is given at most that many tasks, then STOP, and a replacement starts while it finishes', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const { pool, executor } = fakePool({ processes: 1, maxtasksperchild: 2 });
      const [first] = executor.workers;
      first.ready();
      const warm = pool.applyAsync(double, [0]);
      await settle();
      first.answer(double, { busyMs: TINY_MS }); // tiny tasks: the pool would send many at once
      await warm;

      const results = range(4, 1).map((x) => pool.applyAsync(double, [x]));
      await settle();
      expect(first.tasks).toHaveLength(2);
      expect(executor.workers).toHaveLength(2); // the replacement boots already
      expect(first.stopped).toBe(false); // it still owes an answer
      first.answer(double, { busyMs: TINY_MS });
      expect(first.sent[first.sent.length - 1]).toEqual([MessageKind.Stop]);
      first.exit(0);

      const second = executor.workers[1];
      second.ready();
      await settle();
      expect(second.tasks).toHaveLength(2);
      expect(executor.workers).toHaveLength(3);
      second.answer(double, { busyMs: TINY_MS });
      expect(second.sent[second.sent.length - 1]).toEqual([MessageKind.Stop]);
      second.exit(0);

      const third = executor.workers[2];
      third.ready();
      await settle();
      expect(third.tasks).toHaveLength(1);
      third.answer(double, { busyMs: TINY_MS });
      expect(await Promise.all(results)).toEqual(range(4, 1).map(double));
      expect(third.stopped).toBe(false); // it has one task left to give
      expect(executor.workers).toHaveLength(3);
      expect(warn).not.toHaveBeenCalled(); // exits after STOP are expected ones
    } finally {
      warn.mockRestore();
    }
  });

  test('a map chunk counts as one task', async () => {
    const { pool, executor } = fakePool({ processes: 1, maxtasksperchild: 1 });
    const mapped = pool.mapAsync(double, range(6), 3);
    executor.workers[0].ready();
    await settle();
    expect(executor.workers[0].tasks.map((t) => t.payload)).toEqual([[0, 1, 2]]);
    executor.workers[0].answer(double, { busyMs: LONG_MS });
    executor.workers[0].exit(0);
    executor.workers[1].ready();
    await settle();
    executor.workers[1].answer(double, { busyMs: LONG_MS });
    expect(await mapped).toEqual(range(6).map(double));
  });
});

describe('withdrawn work', () => {
  test('a map that fails early never sends its queued chunks', async () => {
    const { pool, executor } = fakePool(1);
    const mapped = pool.mapAsync(double, range(6), 1);
    const [worker] = executor.workers;
    worker.ready();
    await settle();
    expect(worker.tasks).toHaveLength(1);
    worker.reply(LONG_MS, chunkThrew(0, [], new Error('first item failed')));
    await expect(mapped.get()).rejects.toThrow('first item failed');
    await settle();
    expect(worker.tasks).toHaveLength(1);
    expect(worker.referenced).toBe(false); // nothing pending any more
  });

  test('a map failing on one worker withdraws its chunks queued for others, and ignores results still in flight', async () => {
    const { pool, executor } = fakePool(2);
    const mapped = pool.mapAsync(double, range(8), 1);
    const other = pool.applyAsync(double, [100]);
    const [first, second] = executor.workers;
    first.ready();
    second.ready();
    await settle();
    first.reply(LONG_MS, chunkThrew(0, [], new Error('nope')));
    await expect(mapped.get()).rejects.toThrow('nope');
    await settle();
    second.answer(double, { busyMs: LONG_MS }); // its chunk [1] was in flight: ignored
    await answerEverything(executor, LONG_MS);
    expect(await other).toBe(200);
    const sent = executor.workers.flatMap((w) => w.tasks.map((t) => t.payload));
    expect(sent).toEqual(expect.arrayContaining([[0], [1], [100]]));
    expect(sent).toHaveLength(3);
  });

  test('leaving an imap loop early sends nothing more of its input', async () => {
    const { pool, executor } = fakePool(1);
    let pulled = 0;
    let closedInput = false;
    function* naturals(): Generator<number> {
      try {
        for (let i = 0; ; i++) {
          pulled++;
          yield i;
        }
      } finally {
        closedInput = true;
      }
    }
    const [worker] = executor.workers;
    worker.ready();
    const seen: number[] = [];
    const iterator = pool.imap(double, naturals());
    const answering = (async (): Promise<void> => {
      await settle();
      worker.answer(double, { busyMs: LONG_MS });
    })();
    for await (const value of iterator) {
      seen.push(value);
      break;
    }
    await answering;
    expect(seen).toEqual([0]);
    expect(closedInput).toBe(true);
    const sentBeforeBreak = worker.tasks.length;
    expect(sentBeforeBreak).toBeLessThanOrEqual(2); // the first, and perhaps its successor
    expect(pulled).toBeGreaterThan(sentBeforeBreak); // the rest were queued, and stay unsent
    await answerEverything(executor, LONG_MS);
    expect(worker.tasks).toHaveLength(sentBeforeBreak);
    expect(worker.referenced).toBe(false);
  });

  test('an imap whose task fails ends there and sends none of its queued chunks', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    const iterator = pool.imap(double, range(50), 5);
    const first = iterator.next();
    await settle();
    worker.reply(LONG_MS, chunkThrew(2, [0, 2], new RangeError('item 2')));
    expect(await first).toEqual({ done: false, value: 0 });
    expect(await iterator.next()).toEqual({ done: false, value: 2 });
    await expect(iterator.next()).rejects.toThrow(new RangeError('item 2'));
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    await answerEverything(executor, LONG_MS);
    expect(worker.tasks.length).toBeLessThanOrEqual(2);
    expect(worker.referenced).toBe(false);
  });
});
