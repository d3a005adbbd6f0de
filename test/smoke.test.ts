import { Pool, task } from 'mpool';
import { join } from 'node:path';

const sqr = task<(x: number) => number>(join(__dirname, 'fixtures/tasks.mjs'), 'sqr');

test('apply squares a number in a worker', async () => {
  const pool = new Pool(2);
  try {
    expect(await pool.apply(sqr, [5])).toBe(25);
  } finally {
    await pool.terminate();
  }
});
