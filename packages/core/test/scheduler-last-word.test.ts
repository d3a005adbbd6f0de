/**
 * What the scheduler does with a dead worker's last word (WorkerExitInfo.lastWord): how many
 * tasks it had started, and whether the last one still ran. Tasks it never started go back to the
 * queue unblamed, the one it was running is the one that killed it, and finished tasks whose
 * results died with it run again.
 */
import { WorkerCrashedError, type AsyncResult } from '@mpool/core';
import { settle, type FakeWorker } from './fake-executor.js';
import { useFakePools } from './pool-harness.js';

const fakePool = useFakePools();

const double = (x: number): number => x * 2;

const TINY_MS = 0.000001;
/** Turns of the event loop a live worker may take to reach a state; far more than it needs. */
const LIVE_TURNS = 100;

/**
 * A pool of one worker, ready, that has answered one tiny task (its task number 0), so that the
 * tasks the test sends next travel together in one message: its tasks number 1, 2, …
 */
async function poolWithOneAnswered(): Promise<{ pool: ReturnType<typeof fakePool>['pool']; first: FakeWorker; next: () => FakeWorker }> {
  const { pool, executor } = fakePool(1);
  const [first] = executor.workers;
  first.ready();
  const learnt = pool.applyAsync(double, [0]);
  await settle();
  first.answer(double, { busyMs: TINY_MS });
  await learnt;
  const next = (): FakeWorker => {
    const worker = executor.workers[executor.workers.length - 1];
    worker.ready();
    return worker;
  };
  return { pool, first, next };
}

function tasksPerRun(worker: FakeWorker): number[] {
  return worker.runs.map((run) => (run.length - 2) / 3);
}

function payloadsOf(worker: FakeWorker): unknown[] {
  return worker.tasks.map((task) => (task.payload as unknown[])[0]);
}

/** Answers what `worker` has, one message at a time, until it has nothing left. */
async function answerAll(worker: FakeWorker): Promise<void> {
  await settle();
  while (worker.unanswered.length > 0) {
    worker.answer(double, { busyMs: TINY_MS });
    await settle();
  }
}

describe("a worker's last word", () => {
  test('tasks it never started run on its replacement, together as before: none fails, none runs alone', async () => {
    const { pool, first, next } = await poolWithOneAnswered();
    const results = [1, 2, 3].map((x) => pool.applyAsync(double, [x]));
    await settle();
    expect(tasksPerRun(first)).toEqual([1, 3]);

    first.exitSaying({ started: 1, running: false }, 3);
    const second = next();
    await settle();
    expect(tasksPerRun(second)).toEqual([3]);
    await answerAll(second);
    expect(await Promise.all(results)).toEqual([2, 4, 6]);
  });

  test('the task it was running fails with WorkerCrashedError, whatever else was in flight; those it never started run again', async () => {
    const { pool, first, next } = await poolWithOneAnswered();
    const results = [1, 2, 3, 4].map((x) => pool.applyAsync(double, [x]));
    await settle();
    first.answer(double, { count: 1, busyMs: TINY_MS });
    expect(await results[0]).toBe(2);

    const uncaught = new Error('thrown in a timer');
    first.exitSaying({ started: 3, running: true }, 1, uncaught); // its task 2 ran: the job [2]
    const error: unknown = await results[1].get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error).toMatchObject({ exitCode: 1, signal: null, cause: uncaught });

    const second = next();
    await settle();
    expect(payloadsOf(second)).toEqual([3, 4]);
    expect(tasksPerRun(second)).toEqual([2]);
    await answerAll(second);
    expect(await Promise.all(results.slice(2))).toEqual([6, 8]);
  });

  test('finished tasks whose results died with it run again; with the task that killed it known, unblamed', async () => {
    const { pool, first, next } = await poolWithOneAnswered();
    const results = [1, 2, 3].map((x) => pool.applyAsync(double, [x]));
    await settle();

    first.exitSaying({ started: 3, running: true }, 5); // [1] finished, unanswered; [2] ran; [3] never started
    await expect(results[1].get()).rejects.toMatchObject({ name: 'WorkerCrashedError', exitCode: 5 });

    const second = next();
    await settle();
    expect(payloadsOf(second)).toEqual([1, 3]);
    expect(tasksPerRun(second)).toEqual([2]);
    await answerAll(second);
    expect(await results[0]).toBe(2);
    expect(await results[2]).toBe(6);
  });

  test('with none running it died between tasks: the finished ones run again each alone, the others together', async () => {
    const { pool, first, next } = await poolWithOneAnswered();
    const results = [1, 2, 3, 4].map((x) => pool.applyAsync(double, [x]));
    await settle();

    first.exitSaying({ started: 3, running: false }, 6); // [1] and [2] finished, unanswered: suspects
    const second = next();
    await answerAll(second);
    expect(await Promise.all(results)).toEqual([2, 4, 6, 8]);
    expect(payloadsOf(second)).toEqual([1, 2, 3, 4]);
    expect(tasksPerRun(second)).toEqual([1, 1, 2]);
  });

  test('a task that ran alone, finished, and whose worker died before its result came is the one', async () => {
    const { pool, first, next } = await poolWithOneAnswered();
    const results = [1, 2].map((x) => pool.applyAsync(double, [x]));
    await settle();
    first.exitSaying({ started: 3, running: false }, 6);

    const second = next();
    await settle();
    expect(payloadsOf(second)).toEqual([1]);
    second.exitSaying({ started: 1, running: false }, 6);
    await expect(results[0].get()).rejects.toMatchObject({ name: 'WorkerCrashedError', exitCode: 6 });

    const third = next();
    await answerAll(third);
    expect(await results[1]).toBe(4);
  });

  test('a worker that started no task at all says nothing of use: its one task in flight is the one, as without a word', async () => {
    const { pool, executor } = fakePool(1);
    const doomed = pool.applyAsync(double, [1]);
    executor.workers[0].ready();
    await settle();
    executor.workers[0].exitSaying({ started: 0, running: false }, 9);
    await expect(doomed.get()).rejects.toMatchObject({ name: 'WorkerCrashedError', exitCode: 9 });
  });

  test('a live worker that dies while its task awaits fails that task alone; the tasks behind it run on its replacement', async () => {
    const { pool, executor } = fakePool(1, { live: true });
    const [first] = executor.workers;
    expect(await pool.apply(double, [0])).toBe(0); // the pool learns that these tasks are quick
    const hang = (): Promise<never> => new Promise<never>(() => undefined);
    const hung = pool.applyAsync(hang);
    const behind: AsyncResult<number>[] = [1, 2, 3].map((x) => pool.applyAsync(double, [x]));
    for (let turn = 0; turn < LIVE_TURNS && first.counted?.running !== true; turn++) await settle();
    expect(first.counted).toEqual({ started: 2, running: true });
    expect(first.unanswered).toHaveLength(4);

    first.exit(1);
    await expect(hung.get()).rejects.toBeInstanceOf(WorkerCrashedError);
    expect(await Promise.all(behind)).toEqual([2, 4, 6]);
    expect(executor.workers).toHaveLength(2);
  });
});
