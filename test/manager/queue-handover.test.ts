/**
 * No item of a Manager's queue is lost between the queue and a task, on every context: a task
 * that stops waiting (its timeout, its signal, its own end, its `get(timeoutMs)`) is never handed
 * an item, and an item handed to a worker that dies before it arrives goes back to the front of
 * the queue, in order.
 */
import { AbortError, TimeoutError, WorkerCrashedError, type SharedQueue } from '@mpool/pool';
import { rejectionOf, useGates, usePools, useSharedPool } from '../conformance/helpers';
import { CONTEXTS, useManagers, WAIT_MS } from './support';

/**
 * The timeout of a task that waits on a queue for ever: long enough for it to reach its `get()`
 * on a busy machine (two calls to the parent), short enough to keep the test quick.
 */
const STOP_AFTER_MS = 2_000;

/** Waits on `jobs` after telling the parent it does; returns what it gets. */
async function waitForItem(jobs: SharedQueue<string>, signals: SharedQueue<string>): Promise<string> {
  const item = jobs.get(); // reaches the parent before the signal: the parent has it waiting
  await signals.put('waiting');
  return item;
}

/** What the initializer of the `initargs` test leaves in each worker's global scope. */
interface InitGlobals {
  jobs: SharedQueue<string>;
}

describe.each(CONTEXTS)("a Manager queue's items on the '%s' context", (context) => {
  const pool = useSharedPool(context);
  const pools = usePools(context);
  const managers = useManagers();
  const newGate = useGates();

  test('a task stopped by its timeout while waiting in get() is handed nothing: the next item stays in the queue', async () => {
    const manager = managers();
    const jobs = manager.queue<string>();
    const signals = manager.queue<string>();
    const waiting = pool().applyAsync(waitForItem, [jobs, signals], { timeout: STOP_AFTER_MS });
    expect(await signals.get(WAIT_MS)).toBe('waiting');
    expect(await rejectionOf(waiting.get(WAIT_MS))).toBeInstanceOf(TimeoutError);
    await jobs.put('item');
    expect(await jobs.size()).toBe(1);
    expect(await jobs.get(WAIT_MS)).toBe('item');
  });

  test('a task stopped by its signal while waiting in get() is handed nothing: the next item stays in the queue', async () => {
    const manager = managers();
    const jobs = manager.queue<string>();
    const signals = manager.queue<string>();
    const controller = new AbortController();
    const waiting = pool().applyAsync(waitForItem, [jobs, signals], { signal: controller.signal });
    expect(await signals.get(WAIT_MS)).toBe('waiting');
    controller.abort();
    expect(await rejectionOf(waiting.get(WAIT_MS))).toBeInstanceOf(AbortError);
    await jobs.put('item');
    expect(await jobs.size()).toBe(1);
    // A task that waits now gets it.
    expect(await pool().apply(async (jobs: SharedQueue<string>) => jobs.get(), [jobs])).toBe('item');
  });

  test('a task that ends while its get() still waits is handed nothing: the next item stays in the queue', async () => {
    const manager = managers();
    const jobs = manager.queue<string>();
    const signals = manager.queue<string>();
    expect(await pool().apply(async (jobs: SharedQueue<string>, signals: SharedQueue<string>) => {
      void jobs.get(); // never awaited: the task returns while it waits
      await signals.put('waiting');
      return 'returned';
    }, [jobs, signals])).toBe('returned');
    expect(await signals.getNowait()).toBe('waiting');
    await jobs.put('item');
    expect(await jobs.size()).toBe(1);
    expect(await jobs.getNowait()).toBe('item');
  });

  test("a task that ends while waiting on its worker's queue from initargs is handed nothing: the next item stays in the queue", async () => {
    const manager = managers();
    const jobs = manager.queue<string>();
    const oneWorker = pools({
      processes: 1,
      initializer: (jobs: SharedQueue<string>) => {
        (globalThis as unknown as InitGlobals).jobs = jobs;
      },
      initargs: [jobs],
    });
    const leaveWaiting = async (signals: SharedQueue<string>): Promise<string> => {
      void (globalThis as unknown as InitGlobals).jobs.get(); // never awaited: the task returns while it waits
      await signals.put('waiting');
      return 'returned';
    };
    const signals = manager.queue<string>();
    expect(await oneWorker.apply(leaveWaiting, [signals])).toBe('returned');
    expect(await signals.getNowait()).toBe('waiting');
    await jobs.put('first');
    expect(await jobs.size()).toBe(1);
    // The next task on the same worker gets the item through the same proxy.
    expect(await oneWorker.apply(async () => (globalThis as unknown as InitGlobals).jobs.get())).toBe('first');
  });

  test('get(timeoutMs) that runs out of time in a task leaves the next item in the queue, and so does one in the parent', async () => {
    const manager = managers();
    const jobs = manager.queue<string>();
    const seen = await pool().apply(async (jobs: SharedQueue<string>) => {
      try {
        return `got ${await jobs.get(1)}`;
      } catch (error) {
        return (error as Error).name;
      }
    }, [jobs]);
    expect(seen).toBe('TimeoutError');
    expect(await rejectionOf(jobs.get(1))).toBeInstanceOf(TimeoutError);
    await jobs.put('item');
    expect(await jobs.size()).toBe(1);
    expect(await jobs.getNowait()).toBe('item');
  });

  test('items handed to a worker that dies before reading them go back to the front of the queue, in order', async () => {
    const manager = managers();
    const jobs = manager.queue<string>();
    const signals = manager.queue<string>();
    const gate = newGate();
    const doomed = pool().applyAsync((jobs: SharedQueue<string>, signals: SharedQueue<string>, gatePath: string) => {
      void jobs.get();
      void jobs.get();
      void signals.put('waiting');
      // Blocks without going back to the event loop, so that it never reads what the parent sends
      // it now, then dies.
      const pause = new Int32Array(new SharedArrayBuffer(4));
      while (!require('node:fs').existsSync(gatePath)) Atomics.wait(pause, 0, 0, 5);
      process.exit(5);
    }, [jobs, signals, gate.path]);
    expect(await signals.get(WAIT_MS)).toBe('waiting');
    await jobs.put('first');
    await jobs.put('second');
    await jobs.put('third');
    expect(await jobs.size()).toBe(1); // the first two went to the worker's two gets
    gate.open();
    expect(await rejectionOf(doomed.get(WAIT_MS))).toBeInstanceOf(WorkerCrashedError);
    expect([await jobs.getNowait(), await jobs.getNowait(), await jobs.getNowait()]).toEqual(['first', 'second', 'third']);
    expect(await jobs.empty()).toBe(true);
  });

  test('an item a task has received stays taken when its worker dies afterwards', async () => {
    const manager = managers();
    const jobs = manager.queue<string>();
    const signals = manager.queue<string>();
    const doomed = pool().applyAsync(async (jobs: SharedQueue<string>, signals: SharedQueue<string>) => {
      await signals.put(`received ${await jobs.get()}`);
      process.exit(6);
    }, [jobs, signals]);
    await jobs.put('item');
    expect(await signals.get(WAIT_MS)).toBe('received item');
    expect(await rejectionOf(doomed.get(WAIT_MS))).toBeInstanceOf(WorkerCrashedError);
    expect(await jobs.size()).toBe(0);
  });
});
