/**
 * Pools over the fake backend, cleaned up after each test: every pool is terminated (its fake
 * workers exit), and the fake's protocol checks must have found nothing.
 */
import { Pool, type PoolBackend, type PoolOptions } from '@mpool/core';
import { FakeExecutor, type FakeExecutorOptions } from './fake-executor.js';

export interface FakePool {
  readonly pool: Pool;
  readonly executor: FakeExecutor;
}

/** A fallback over a second fake backend, for the pool to move to when `when(error)` says so. */
export interface FakeFallback {
  readonly context: string;
  readonly executor: FakeExecutor;
  readonly when: (error: unknown) => boolean;
}

type MakePool = (options: number | PoolOptions, executorOptions?: FakeExecutorOptions, fallback?: FakeFallback) => FakePool;

/** Call once per test file; returns a maker of pools that are terminated after each test. */
export function useFakePools(): MakePool {
  const made: { pool: Pool; executors: FakeExecutor[] }[] = [];
  afterEach(async () => {
    for (const { pool, executors } of made.splice(0)) {
      const gone = pool.terminate();
      // Workers told not to exit on terminate() are ended here, so that terminate() can resolve.
      for (const executor of executors) {
        for (const worker of executor.workers) if (!worker.exited && worker.terminateCalls > 0) worker.exit(1);
      }
      await gone;
      for (const executor of executors) {
        expect(executor.alive).toEqual([]);
        expect(executor.violations).toEqual([]);
      }
    }
  });
  return (options, executorOptions, fallback) => {
    const executor = new FakeExecutor(executorOptions);
    const backend: PoolBackend = fallback === undefined ? executor.backend : { ...executor.backend, fallback };
    const pool = new Pool(options, backend);
    made.push({ pool, executors: fallback === undefined ? [executor] : [executor, fallback.executor] });
    return { pool, executor };
  };
}
