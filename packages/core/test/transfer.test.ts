/**
 * `transfer()` markers and what the payload codecs do with them (moves.ts), on their own and in a
 * scheduler over the fake backend: what a marker lists moves with its message, a buffer that
 * cannot be moved fails only its own task, and a task that moved buffers to a worker that died,
 * or that its worker's kind could not run ('auto'), is not sent again.
 */
import { runInNewContext } from 'node:vm';
import { DataCloneError, transfer, WorkerCrashedError } from '@mpool/core';
import { DataCloneError as SourceDataCloneError } from '../src/errors.js';
import { Moves } from '../src/moves.js';
import { isTransfer } from '../src/transfer.js';
import { RunMode } from '../src/wire.js';
import { learnTasksAreTiny, settle, threw, FakeExecutor, type FakeWorker } from './fake-executor.js';
import { useFakePools, type FakeFallback } from './pool-harness.js';

const fakePool = useFakePools();

const double = (x: number): number => x * 2;
const length = (view: Float64Array): number => view.length;
const TINY_MS = 0.000001;
const LONG_MS = 50;

/** A buffer that has been moved away. */
function detached(): ArrayBuffer {
  const buffer = new ArrayBuffer(8);
  structuredClone(buffer, { transfer: [buffer] });
  return buffer;
}

describe('the transfer() marker', () => {
  test('stands for its value, and wants its transferables as an array', () => {
    const view = new Float64Array(4);
    const marker = transfer(view, [view.buffer]);
    expect(isTransfer(marker)).toBe(true);
    expect(isTransfer(view)).toBe(false);
    expect(Object.isFrozen(marker)).toBe(true);
    expect(() => transfer(view, view.buffer as unknown as ArrayBuffer[])).toThrow(TypeError);
    expect(() => transfer(view, null as unknown as ArrayBuffer[])).toThrow(/an array of ArrayBuffers or MessagePorts, got `null`/);
  });

  test('is known whichever copy of its module made it, in whichever realm', () => {
    let other: typeof transfer | undefined;
    jest.isolateModules(() => {
      other = (jest.requireActual('../src/transfer.js') as { transfer: typeof transfer }).transfer;
    });
    expect(other).not.toBe(transfer);
    expect(isTransfer(other!(1, []))).toBe(true);
    const fromAnotherRealm: unknown = runInNewContext('Object.freeze({ [Symbol.for("mpool.transfer")]: true, value: 1, transferables: [] })');
    expect(isTransfer(fromAnotherRealm)).toBe(true);
  });

  test('is not looked for by reading a hostile value', () => {
    const hostile = new Proxy({}, {
      get() {
        throw new Error('read me not');
      },
    });
    expect(isTransfer(hostile)).toBe(false);
  });
});

describe('Moves: markers out, transferables checked and gathered', () => {
  test("a task's arguments: markers replaced by their values in a new array, the job's left as they were", () => {
    const moves = new Moves();
    const a = new Float64Array(2);
    const args = [transfer(a, [a.buffer]), 5];
    const out = moves.payload(RunMode.Apply, args) as unknown[];
    expect(out).toEqual([a, 5]);
    expect(out[0]).toBe(a);
    expect(isTransfer(args[0])).toBe(true);
    expect(moves.take()).toEqual([a.buffer]);
    expect(moves.take()).toBeUndefined();
  });

  test('payloads without markers go as they are, the same array', () => {
    const moves = new Moves();
    const args = [1, new Float64Array(3), 'x'];
    expect(moves.payload(RunMode.Apply, args)).toBe(args);
    const items = [[1, 2], [3]];
    expect(moves.payload(RunMode.Starmap, items)).toBe(items);
    expect(moves.take()).toBeUndefined();
  });

  test("map items and starmap items' arguments, and a chunk's results in place", () => {
    const moves = new Moves();
    const [a, b, c] = [new ArrayBuffer(8), new ArrayBuffer(8), new ArrayBuffer(8)];
    const starmapItem = [transfer(a, [a]), 1];
    expect(moves.payload(RunMode.Map, [transfer(b, [b]), 2])).toEqual([b, 2]);
    expect(moves.payload(RunMode.Starmap, [starmapItem, [3]])).toEqual([[a, 1], [3]]);
    expect(isTransfer(starmapItem[0])).toBe(true);
    const results = [transfer(c, [c]), 'x'];
    expect(moves.result(RunMode.Map, results)).toBe(results);
    expect(results).toEqual([c, 'x']);
    expect(moves.take()).toEqual([b, a, c]);
  });

  test("a task's result", () => {
    const moves = new Moves();
    const a = new ArrayBuffer(8);
    expect(moves.result(RunMode.Apply, transfer({ a }, [a]))).toEqual({ a });
    expect(moves.result(RunMode.Apply, 7)).toBe(7);
    expect(moves.take()).toEqual([a]);
  });

  test.each([
    ['a detached buffer', (): unknown[] => [detached()], /item 0 of the transfer list is a detached ArrayBuffer: it was moved before/],
    ['a buffer listed twice', (): unknown[] => { const b = new ArrayBuffer(8); return [new ArrayBuffer(1), b, b]; }, /item 2 of the transfer list is listed twice/],
    ['a typed array', (): unknown[] => [new Uint16Array(2)], /item 0 of the transfer list is a Uint16Array, not an ArrayBuffer: list its \.buffer/],
    ['a SharedArrayBuffer', (): unknown[] => [new SharedArrayBuffer(8)], /item 0 of the transfer list is a SharedArrayBuffer, which workers share as it is/],
    ['a plain object', (): unknown[] => [{}], /item 0 of the transfer list \(Object\) cannot be moved: transfer\(\) moves ArrayBuffers and MessagePorts/],
    ['a number', (): unknown[] => [3], /\(number\) cannot be moved/],
  ])('refuses %s with DataCloneError, noting nothing of the payload', (_, list, message) => {
    const moves = new Moves();
    const fine = new ArrayBuffer(8);
    moves.payload(RunMode.Apply, [transfer(1, [fine])]);
    const other = new ArrayBuffer(8);
    const refused = (): unknown => moves.payload(RunMode.Apply, [transfer(2, [other]), transfer(3, list() as ArrayBuffer[])]);
    expect(refused).toThrow(SourceDataCloneError);
    expect(refused).toThrow(message);
    // What the message held before stays; nothing of the refused payload was noted.
    expect(moves.take()).toEqual([fine]);
  });

  test('a buffer another task of the same message moves already is refused; the next message may move it', () => {
    const moves = new Moves();
    const shared = new ArrayBuffer(8);
    moves.payload(RunMode.Apply, [transfer(1, [shared])]);
    expect(() => moves.payload(RunMode.Apply, [transfer(2, [shared])])).toThrow(/item 0 of the transfer list is moved already by another task in the same message/);
    expect(moves.take()).toEqual([shared]);
    moves.payload(RunMode.Apply, [transfer(2, [shared])]);
    expect(moves.take()).toEqual([shared]);
  });

  test("the results before a chunk's failing item never throw: what cannot move is copied", () => {
    const moves = new Moves();
    const a = new ArrayBuffer(8);
    const before = [transfer(1, [a]), transfer(2, [detached()]), 3];
    expect(moves.before(before)).toEqual([1, 2, 3]);
    expect(moves.take()).toBeUndefined();
  });
});

describe('a pool that moves buffers', () => {
  test('sends what the markers list as the message\'s transfer list: the buffers are detached here', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    const view = Float64Array.from([1, 2, 3]);
    const result = pool.applyAsync(length, [transfer(view, [view.buffer])]);
    await settle();
    expect(view.byteLength).toBe(0);
    expect(worker.tasks[0]!.payload).toEqual([Float64Array.from([1, 2, 3])]);
    worker.answer(length);
    expect(await result).toBe(3);
  });

  test('a task whose buffer cannot be moved fails alone with DataCloneError; the rest of its message goes', async () => {
    const { pool, executor } = fakePool(1);
    const [worker] = executor.workers;
    worker.ready();
    await learnTasksAreTiny(worker, pool.applyAsync(double, [0]));
    const view = new Float64Array(2);
    const results = [
      pool.applyAsync(double, [1]),
      pool.applyAsync(length, [transfer(view, [detached()])]),
      pool.applyAsync(double, [3]),
    ];
    await settle();
    await expect(results[1].get()).rejects.toThrow(/The arguments of a task could not be copied to its worker: transfer\(\): item 0 of the transfer list is a detached ArrayBuffer/);
    await expect(results[1].get()).rejects.toBeInstanceOf(DataCloneError);
    expect(worker.runs.slice(1).map((run) => (run.length - 2) / 3)).toEqual([2]);
    worker.answer(double, { busyMs: TINY_MS });
    expect(await results[0]).toBe(2);
    expect(await results[2]).toBe(6);
  });

  test.each([
    { how: 'saying nothing (the others run again, each alone)', die: (worker: FakeWorker) => worker.exit(1) },
    { how: 'having started none of them (the others run elsewhere, unblamed)', die: (worker: FakeWorker) => worker.exitSaying({ started: 1, running: false }) },
  ])('a task that moved buffers to a worker that died $how fails with WorkerCrashedError, and is not sent again', async ({ die }) => {
    const { pool, executor } = fakePool(1);
    const [first] = executor.workers;
    first.ready();
    await learnTasksAreTiny(first, pool.applyAsync(double, [0]));
    const view = new Float64Array(2);
    const results = [pool.applyAsync(double, [1]), pool.applyAsync(length, [transfer(view, [view.buffer])]), pool.applyAsync(double, [3])];
    await settle();
    expect(first.tasks).toHaveLength(4); // the three went together
    die(first);
    const error = await results[1].get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as Error).message).toMatch(/^The worker this task was sent to died \(.*\) before it answered; the buffers this task moved to it \(transfer\(\)\) went with it, so it does not run again/);

    const second = executor.workers[1]!;
    second.ready();
    await settle();
    while (second.unanswered.length > 0) {
      second.answer(double, { busyMs: TINY_MS });
      await settle();
    }
    expect(await Promise.all([results[0], results[2]])).toEqual([2, 6]);
    expect(second.tasks.map((task) => task.payload)).toEqual([[1], [3]]);
  });

  test("a map's chunk that moved buffers fails the map with WorkerCrashedError when its worker dies with others", async () => {
    const { pool, executor } = fakePool(1);
    const [first] = executor.workers;
    first.ready();
    await learnTasksAreTiny(first, pool.applyAsync(double, [0]));
    const views = [0, 1, 2, 3].map((i) => Float64Array.from([i]));
    const mapped = pool.map(length, views.map((view, i) => (i === 2 ? transfer(view, [view.buffer]) : view)), 2);
    await settle();
    expect(first.tasks).toHaveLength(3);
    first.exit(1);
    await expect(mapped).rejects.toBeInstanceOf(WorkerCrashedError);
  });

  test("on 'auto', a task that moved buffers and cannot run on threads fails with its own error; the pool moves all the same", async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const processes = new FakeExecutor();
      const unsupported = (error: unknown): boolean => (error as { code?: unknown }).code === 'ERR_WORKER_UNSUPPORTED_OPERATION';
      const fallback: FakeFallback = { context: 'fork', executor: processes, when: unsupported };
      const { pool, executor: threads } = fakePool(1, {}, fallback);
      const [thread] = threads.workers;
      thread.ready();
      const view = new Float64Array(2);
      const result = pool.applyAsync(length, [transfer(view, [view.buffer])]);
      await settle();
      thread.reply(LONG_MS, threw(Object.assign(new Error('process.chdir() is not supported in workers'), { code: 'ERR_WORKER_UNSUPPORTED_OPERATION' })));
      await expect(result.get()).rejects.toMatchObject({ code: 'ERR_WORKER_UNSUPPORTED_OPERATION' });
      expect(pool.context).toBe('fork');
      for (const worker of processes.workers) worker.ready();
      await settle();
      expect(processes.workers.flatMap((worker) => worker.tasks)).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  });
});
