/**
 * A pool with a fallback (the 'auto' context) moves, once, to the fallback backend when a worker
 * reports an error the fallback is for; watched here over two fake backends.
 */
import { chunkThrew, settle, threw, FakeExecutor } from './fake-executor.js';
import { useFakePools, type FakeFallback } from './pool-harness.js';

const fakePool = useFakePools();

const double = (x: number): number => x * 2;
const LONG_MS = 50;
const UNSUPPORTED = 'ERR_WORKER_UNSUPPORTED_OPERATION';

function unsupported(): Error {
  return Object.assign(new Error('not supported in a worker thread'), { code: UNSUPPORTED });
}

function fallbackTo(executor: FakeExecutor): FakeFallback {
  return { context: 'fork', executor, when: (error) => (error as { code?: unknown }).code === UNSUPPORTED };
}

let warn: jest.SpyInstance;
beforeEach(() => {
  warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
});
afterEach(() => {
  warn.mockRestore();
});

describe('moving to the fallback', () => {
  test('an initializer error the fallback is for moves the pool: the first workers end, new ones start on the fallback', async () => {
    const processes = new FakeExecutor();
    const { pool, executor: threads } = fakePool(2, {}, fallbackTo(processes));
    const result = pool.applyAsync(double, [1]);
    threads.workers[0].initFailed(unsupported());
    expect(pool.context).toBe('fork');
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/not supported in a worker thread/), expect.objectContaining({ code: 'MPOOL_CONTEXT_FALLBACK' }));
    expect(threads.workers.map((w) => w.terminateCalls)).toEqual([1, 1]);
    expect(threads.shutdownCalls).toBe(1);
    expect(processes.workers).toHaveLength(2);
    await settle();
    expect(threads.workers).toHaveLength(2); // none replaced on the first backend

    processes.workers[0].ready();
    await settle();
    processes.workers[0].answer(double);
    expect(await result).toBe(2);
  });

  test('a task error the fallback is for re-runs that task on the fallback instead of failing it', async () => {
    const processes = new FakeExecutor();
    const { pool, executor: threads } = fakePool(2, {}, fallbackTo(processes));
    const result = pool.applyAsync(double, [21]);
    for (const worker of threads.workers) worker.ready();
    await settle();
    const ran = threads.workers.find((w) => w.tasks.length === 1);
    if (ran === undefined) throw new Error('the task was not sent');
    ran.reply(LONG_MS, threw(unsupported()));
    expect(result.ready()).toBe(false);
    expect(threads.workers.every((w) => w.stopped)).toBe(true);
    for (const worker of threads.workers) worker.exit(0);

    processes.workers[0].ready();
    await settle();
    expect(processes.workers[0].tasks.map((t) => t.payload)).toEqual([[21]]);
    processes.workers[0].answer(double);
    expect(await result).toBe(42);
  });

  test('a chunk that stops at an item with an error the fallback is for runs again whole on the fallback', async () => {
    const processes = new FakeExecutor();
    const { pool, executor: threads } = fakePool(1, {}, fallbackTo(processes));
    const [thread] = threads.workers;
    thread.ready();
    const result = pool.map(double, [1, 2, 3, 4], 4);
    await settle();
    thread.reply(LONG_MS, chunkThrew(2, [2, 4], unsupported()));
    expect(pool.context).toBe('fork');
    expect(thread.stopped).toBe(true);
    thread.exit(0);

    const [child] = processes.workers;
    child.ready();
    await settle();
    expect(child.tasks.map((t) => t.payload)).toEqual([[1, 2, 3, 4]]);
    child.answer(double);
    expect(await result).toEqual([2, 4, 6, 8]);
  });

  test('other errors do not move the pool, and once moved the same error is an ordinary task error', async () => {
    const processes = new FakeExecutor();
    const { pool, executor: threads } = fakePool(1, {}, fallbackTo(processes));
    const [thread] = threads.workers;
    thread.ready();
    const plain = pool.applyAsync(double, [1]);
    await settle();
    thread.reply(LONG_MS, threw(new TypeError('ordinary')));
    await expect(plain.get()).rejects.toThrow(new TypeError('ordinary'));
    expect(pool.context).toBe('fake');
    expect(processes.workers).toEqual([]);

    const moving = pool.applyAsync(double, [2]);
    await settle();
    thread.reply(LONG_MS, threw(unsupported()));
    thread.exit(0);
    const [child] = processes.workers;
    child.ready();
    await settle();
    child.reply(LONG_MS, threw(unsupported()));
    await expect(moving.get()).rejects.toMatchObject({ code: UNSUPPORTED });
    expect(processes.workers).toHaveLength(1);
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
