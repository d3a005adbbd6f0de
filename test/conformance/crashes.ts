/** Workers that die mid-task: the task fails, the worker is replaced, nothing hangs. */
import { MpoolError, WorkerCrashedError, type ContextName } from '@mpool/pool';
import { answerThenExit, answerThenExitAtGate, crashInTimer, exitWith, sqr, sqrOrExit } from './fixtures';
import { drain, expectAllRunning, fileWritten, kindOf, rejectionOf, useGates, usePools, WORKERS } from './helpers';

/** Tasks sent at once to a pool whose workers exit after every EXIT_EVERY-th: many chances to lose one. */
const MANY_TASKS = 200;
const EXIT_EVERY = 10;

export function crashTests(context: ContextName): void {
  describe('worker death', () => {
    const newPool = usePools(context);
    const newGate = useGates();

    test('a task that exits its worker rejects with WorkerCrashedError carrying the exit code', async () => {
      const pool = newPool();
      const error = await rejectionOf(pool.apply(exitWith, [3]));
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect(error).toBeInstanceOf(MpoolError);
      expect(error).toMatchObject({ name: 'WorkerCrashedError', exitCode: 3, signal: null });
    });

    test('after a crash the pool keeps working, with as many workers as before', async () => {
      const pool = newPool();
      await expect(pool.apply(exitWith, [4])).rejects.toBeInstanceOf(WorkerCrashedError);
      expect(pool.processes).toBe(WORKERS);
      expect(await pool.map(sqr, [1, 2, 3, 4, 5, 6, 7, 8], 1)).toEqual([1, 4, 9, 16, 25, 36, 49, 64]);
      await expectAllRunning(pool, newGate());
    });

    test('an uncaught exception thrown in a timer inside the task rejects with WorkerCrashedError and that error as cause', async () => {
      const pool = newPool();
      const error = await rejectionOf(pool.apply(crashInTimer, ['timer went off']));
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect(error).toHaveProperty('exitCode', 1);
      const { cause } = error as WorkerCrashedError;
      expect(kindOf(cause)).toBe('Error');
      expect((cause as Error).message).toContain('timer went off');
      expect(await pool.apply(sqr, [12])).toBe(144);
    });

    test('only the task that killed its worker fails; the tasks sent with it still succeed', async () => {
      const pool = newPool();
      const results = Array.from({ length: 12 }, (_, i) => (i === 5 ? pool.applyAsync(exitWith, [7]) : pool.applyAsync(sqr, [i])));
      await Promise.all(results.map((result) => result.wait()));
      results.forEach((result, i) => expect(result.successful()).toBe(i !== 5));
      const error = await rejectionOf(results[5].get());
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect(error).toHaveProperty('exitCode', 7);
      for (const [i, result] of results.entries()) if (i !== 5) expect(await result.get()).toBe(i * i);
    });

    test('a task sent to a worker that exits before it starts it runs on another worker, unblamed', async () => {
      const pool = newPool(1);
      const gate = newGate();
      const idle = gate.started('idle');
      expect(await pool.apply(answerThenExitAtGate, [1, gate.path, idle, 3])).toBe(1);
      await fileWritten(idle);
      const next = pool.applyAsync(sqr, [5]);
      // The pool sends it in a microtask, to its one worker, which reads nothing any more.
      await new Promise(setImmediate);
      gate.open();
      expect(await next.get()).toBe(25);
      await expectAllRunning(pool, newGate());
    });

    test('workers that exit just after answering lose no task: their answers count, and what they never started runs elsewhere', async () => {
      const pool = newPool();
      const exits = (i: number): boolean => i % EXIT_EVERY === 0;
      const results = Array.from({ length: MANY_TASKS }, (_, i) => (exits(i) ? pool.applyAsync(answerThenExit, [i, 3]) : pool.applyAsync(sqr, [i])));
      await Promise.all(results.map((result) => result.wait()));
      const failed = results.flatMap((result, i) => (result.successful() ? [] : [i]));
      expect(failed).toEqual([]);
      for (const [i, result] of results.entries()) expect(await result.get()).toBe(exits(i) ? i : i * i);
      expect(await pool.map(sqr, [1, 2, 3])).toEqual([1, 4, 9]);
    });

    test('the errorCallback of a crashed task gets the WorkerCrashedError', async () => {
      const pool = newPool();
      const seen: unknown[] = [];
      const result = pool.applyAsync(exitWith, [2], { errorCallback: (error) => seen.push(error) });
      await result.wait();
      expect(seen).toHaveLength(1);
      expect(seen[0]).toBeInstanceOf(WorkerCrashedError);
    });

    test('crash after crash, the pool replaces its workers and goes on', async () => {
      const pool = newPool();
      for (let code = 1; code <= 4; code++) {
        await expect(pool.apply(exitWith, [code])).rejects.toMatchObject({ name: 'WorkerCrashedError', exitCode: code });
      }
      expect(await pool.apply(sqr, [11])).toBe(121);
      await expectAllRunning(pool, newGate());
    });

    test('a crash during imap ends the iteration at that item, after the results before it', async () => {
      const pool = newPool();
      const { values, error, failed } = await drain(pool.imap(sqrOrExit, [0, 1, 2, -6, 4, 5]));
      expect(values).toEqual([0, 1, 4]);
      expect(failed).toBe(true);
      expect(error).toBeInstanceOf(WorkerCrashedError);
      expect(error).toHaveProperty('exitCode', 6);
      expect(await pool.map(sqr, [3, 4])).toEqual([9, 16]);
    });
  });
}
