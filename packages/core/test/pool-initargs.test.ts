/**
 * `initializer` and `initargs` reach every worker, and `initargs` is typed from the initializer's
 * parameters: this file must compile without casts, as a user's code would.
 */
import { DataCloneError, Pool } from '@mpool/core';
import { FakeExecutor } from './fake-executor.js';

test('every worker is started with the initializer and its arguments', async () => {
  const setup = (level: number, name: string): void => {
    void level;
    void name;
  };
  const executor = new FakeExecutor();
  const pool = new Pool({ processes: 3, initializer: setup, initargs: [7, 'db'] }, executor.backend);
  try {
    expect(executor.workers).toHaveLength(3);
    for (const worker of executor.workers) {
      expect(worker.init.initargs).toEqual([7, 'db']);
      expect(worker.init.initializer).toEqual({ kind: 'source', source: setup.toString(), label: 'setup' });
    }
  } finally {
    await pool.terminate();
  }
});

test('initargs that cannot be copied to a worker are refused when the pool is made, and no worker starts', () => {
  const executor = new FakeExecutor();
  const make = (): unknown => new Pool({ processes: 2, initializer: (f: () => number) => void f, initargs: [() => 1] }, executor.backend);
  expect(make).toThrow(DataCloneError);
  expect(make).toThrow(/initargs could not be copied to the workers/);
  expect(executor.workers).toHaveLength(0);
});
