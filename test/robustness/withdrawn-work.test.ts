/**
 * A call that ends early (a map that fails, an imap left with `break`) withdraws its other work,
 * some of which may be running. A withdrawn chunk that runs forever must still be stopped at its
 * timeout: otherwise its worker is lost to the pool for good. The scheduler is the same for every
 * backend; a thread and a process context are enough to show it.
 */
import type { ContextName, Pool } from '@mpool/pool';
import { drain, rejectionOf, useGates, usePools } from '../conformance/helpers';
import { mapStep, workersAtOnce, type Step } from './support';

/** The chunk timeout: long enough that the failing chunk always fails first. */
const TIMEOUT_MS = 500;
/** How long after the timeout every worker must take work again: its replacement has started. */
const RECOVERY_LIMIT_MS = 2_000;

const CONTEXTS_SHOWN: readonly ContextName[] = ['thread', 'fork'];

describe.each(CONTEXTS_SHOWN)("the '%s' context", (context) => {
  const newPool = usePools(context);
  const newGate = useGates();

  /** A two-worker pool whose workers are both up, so that the two chunks start together. */
  async function readyPool(): Promise<Pool> {
    const pool = newPool(2);
    await workersAtOnce(pool, newGate());
    return pool;
  }

  const everyWorkerBack = (pool: Pool): Promise<string[]> =>
    workersAtOnce(pool, newGate(), { limitMs: TIMEOUT_MS + RECOVERY_LIMIT_MS });

  test('a map failed by one chunk still stops its stalled chunk at the timeout, and gets that worker back', async () => {
    const pool = await readyPool();
    const steps: Step[] = [['stall', 0], ['throw', 1]];
    const error = await rejectionOf(pool.map(mapStep, steps, { chunksize: 1, timeout: TIMEOUT_MS }));
    expect(error).toMatchObject({ name: 'RangeError', message: 'step 1 failed' });
    await everyWorkerBack(pool);
  });

  test('an imapUnordered ended by one chunk still stops its stalled chunk at the timeout, and gets that worker back', async () => {
    const pool = await readyPool();
    const steps: Step[] = [['stall', 0], ['throw', 1]];
    const { failed, error } = await drain(pool.imapUnordered(mapStep, steps, { chunksize: 1, timeout: TIMEOUT_MS }));
    expect(failed).toBe(true);
    expect(error).toMatchObject({ name: 'RangeError', message: 'step 1 failed' });
    await everyWorkerBack(pool);
  });

  test('an imap left with break still stops its stalled chunk at the timeout, and gets that worker back', async () => {
    const pool = await readyPool();
    const steps: Step[] = [['ok', 2], ['stall', 1]];
    const seen: number[] = [];
    for await (const value of pool.imap(mapStep, steps, { chunksize: 1, timeout: TIMEOUT_MS })) {
      seen.push(value);
      break;
    }
    expect(seen).toEqual([4]);
    await everyWorkerBack(pool);
  });
});
