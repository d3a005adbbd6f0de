/**
 * A pool's size: within mpool's limit; a pool up to the machine's size starts all its workers at
 * once, a bigger one starts the others as its work needs them.
 */
import { availableParallelism } from 'node:os';
import { settle } from './fake-executor.js';
import { useFakePools } from './pool-harness.js';

const fakePool = useFakePools();

const double = (x: number): number => x * 2;

/** mpool's limit on a pool's size, as its RangeError says it. */
const LIMIT = 1024;

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

describe('the size of a pool', () => {
  test('a size above the limit is refused with a RangeError that says the limit', () => {
    for (const processes of [LIMIT + 1, 1e6]) {
      expect(() => fakePool(processes)).toThrow(new RangeError(`Expected \`processes\` to be an integer from 1 to ${LIMIT} (mpool's limit), got \`${processes}\``));
    }
  });

  test('a pool no bigger than the machine starts all its workers at once', () => {
    const size = Math.min(availableParallelism(), LIMIT);
    const { pool, executor } = fakePool(size);
    expect(executor.workers).toHaveLength(size);
    expect(pool.processes).toBe(size);
  });

  test('a pool at the limit starts some of its workers at once, and more only when there is more work than workers', async () => {
    const { pool, executor } = fakePool(LIMIT);
    expect(pool.processes).toBe(LIMIT);
    const atOnce = executor.workers.length;
    expect(atOnce).toBeGreaterThanOrEqual(Math.min(availableParallelism(), LIMIT));
    expect(atOnce).toBeLessThan(LIMIT);

    // A few tasks, fewer than the workers: nothing more starts.
    const few = range(3).map((i) => pool.applyAsync(double, [i]));
    expect(executor.workers).toHaveLength(atOnce);
    for (const worker of executor.workers) worker.ready();
    await settle();
    for (const worker of executor.alive) if (worker.unanswered.length > 0) worker.answer(double);
    expect(await Promise.all(few)).toEqual([0, 2, 4]);

    // Three tasks more than the workers: three more workers, one for each.
    const many = range(atOnce + 3).map((i) => pool.applyAsync(double, [i]));
    expect(executor.workers).toHaveLength(atOnce + 3);
    for (const worker of executor.workers.slice(atOnce)) worker.ready();
    await settle();
    for (const worker of executor.alive) if (worker.unanswered.length > 0) worker.answer(double);
    expect(await Promise.all(many)).toEqual(range(atOnce + 3).map(double));
    expect(executor.workers).toHaveLength(atOnce + 3);
  });
});
