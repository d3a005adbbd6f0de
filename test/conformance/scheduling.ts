/**
 * A pool of N workers runs N tasks at once, and a task never waits behind a running one while a
 * worker is free: the promise a Python pool keeps by having idle workers take the next task.
 */
import { type ContextName } from '@mpool/pool';
import { firstStartsAlone, hold, sqr } from './fixtures';
import { expectAllRunning, fileWritten, range, squares, useGates, usePools, WORKERS } from './helpers';

/** Enough quick tasks for a pool to learn that tasks are quick, if it learns such things. */
const WARM_UP_TASKS = 200;
/** A generous limit for a task that a free worker should take at once. */
const FREE_WORKER_LIMIT_MS = 10_000;

export function schedulingTests(context: ContextName): void {
  describe('scheduling', () => {
    const newPool = usePools(context);
    const newGate = useGates();

    test('a pool of N workers runs N tasks at the same time', async () => {
      await expectAllRunning(newPool(), newGate());
    });

    test('after many quick tasks, N tasks submitted together still run at the same time', async () => {
      const pool = newPool();
      await expectAllRunning(pool, newGate()); // every worker is up
      expect(await pool.map(sqr, range(WARM_UP_TASKS), 1)).toEqual(squares(WARM_UP_TASKS));
      await expectAllRunning(pool, newGate());
    });

    test('a task submitted while a worker is busy runs on a free worker, not behind the busy one', async () => {
      const pool = newPool();
      await expectAllRunning(pool, newGate()); // every worker is up
      expect(await pool.map(sqr, range(WARM_UP_TASKS), 1)).toEqual(squares(WARM_UP_TASKS));
      const gate = newGate();
      const held = pool.applyAsync(hold, [gate.path, gate.started('held'), 'held']);
      await fileWritten(gate.started('held'));
      const quick = pool.applyAsync(sqr, [3]);
      expect(await quick.get(FREE_WORKER_LIMIT_MS)).toBe(9);
      expect(held.ready()).toBe(false);
      gate.open();
      expect(await held).toBe('held');
    });

    test('a task does not wait behind a busy worker while another worker is starting', async () => {
      const startup = newGate();
      const claim = `${startup.path}.claimed`;
      const pool = newPool({ processes: WORKERS, initializer: firstStartsAlone, initargs: [claim, startup.path] });
      expect(await pool.map(sqr, range(WARM_UP_TASKS), 1)).toEqual(squares(WARM_UP_TASKS));
      const gate = newGate();
      const held = pool.applyAsync(hold, [gate.path, gate.started('held'), 'held']);
      const quick = pool.applyAsync(sqr, [3]);
      await fileWritten(gate.started('held'));
      startup.open();
      expect(await quick.get(FREE_WORKER_LIMIT_MS)).toBe(9);
      expect(held.ready()).toBe(false);
      gate.open();
      expect(await held).toBe('held');
    });
  });
}
