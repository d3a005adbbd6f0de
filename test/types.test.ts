/**
 * The types users write against: argument and result types are inferred from the task, whether it
 * is an arrow function, a `function` expression or a `task()` reference, and wrong arguments do
 * not compile (ts-jest type-checks this file: a broken expectation fails the suite).
 */
import { join } from 'node:path';
import { getContext, Pool, task, transfer, type AsyncResult, type PoolOptions } from '@mpool/pool';

const values = join(__dirname, 'fixtures', 'values.mjs');
const sqr = task<(x: number) => number>(values, 'sqr');
const asyncSqr = task<(x: number) => Promise<number>>(values, 'asyncSqr');
const mul = task<(a: number, b: number) => number>(values, 'mul');

describe('typed tasks', () => {
  const pool = new Pool({ processes: 1, context: 'thread' });
  afterAll(() => pool.terminate());

  test('results are typed from arrow functions, function expressions and task references', async () => {
    const fromArrow: number = await pool.apply((x: number) => 2 * x, [21]);
    const fromFunction: number = await pool.apply(function double(x: number) {
      return 2 * x;
    }, [21]);
    const fromRef: number = await pool.apply(sqr, [6]);
    const fromAsyncRef: number = await pool.apply(asyncSqr, [6]);
    const handle: AsyncResult<number> = pool.applyAsync(mul, [6, 7]);
    const mapped: number[] = await pool.map(sqr, [1, 2, 3]);
    const starmapped: number[] = await pool.starmap(mul, [[1, 2], [3, 4]]);
    const strings: string[] = [];
    for await (const s of pool.imap((n: number) => String(n), [1, 2])) strings.push(s);
    expect([fromArrow, fromFunction, fromRef, fromAsyncRef, await handle]).toEqual([42, 42, 36, 36, 42]);
    expect([mapped, starmapped, strings]).toEqual([[1, 4, 9], [2, 12], ['1', '2']]);
  });

  test('transfer() stands for its value in the types: arguments, map items and results keep theirs', async () => {
    const view = Float64Array.from([1, 2, 3]);
    const length: number = await pool.apply((v: Float64Array) => v.length, [transfer(view, [view.buffer])]);
    const views = [Float64Array.from([4]), Float64Array.from([5, 6])];
    const back: Float64Array[] = await pool.map((v: Float64Array) => v, views.map((v) => transfer(v, [v.buffer])));
    expect([length, back.map((v) => v.length)]).toEqual([3, [1, 2]]);
  });
});

/**
 * Never called: it only has to compile, and it compiles only while each line below is an error.
 * At run time JavaScript would take most of these quietly ('6' * '6' is 36): the types stop them.
 */
export async function wrongArgumentsDoNotCompile(pool: Pool): Promise<void> {
  // @ts-expect-error a string where the task takes a number
  await pool.apply(sqr, ['6']);
  // @ts-expect-error one argument too many
  await pool.apply(sqr, [6, 7]);
  // @ts-expect-error map items must be what the task takes
  await pool.map(sqr, ['a', 'b']);
  // @ts-expect-error starmap items are argument lists
  await pool.starmap(mul, [1, 2]);
  // @ts-expect-error the result is a number, not a string
  const wrong: string = await pool.apply(sqr, [6]);
  void wrong;
  // @ts-expect-error a marker of a string where the task takes a number
  await pool.apply(sqr, [transfer('6', [])]);
  // @ts-expect-error transfer() moves buffers and ports, not numbers
  transfer(6, [6]);
}

/** PoolOptions, as users write them apart from the call, hold the 'bullmq' context's options too. */
const clusterOptions: PoolOptions = { context: 'bullmq', connection: { path: '/run/redis.sock' }, queue: 'jobs', startTimeout: 1000 };

/** Never called: the 'bullmq' context's options type-check, and wrong ones do not. */
export function clusterOptionsCompile(): Pool[] {
  return [
    new Pool({ context: 'bullmq', connection: 'redis://127.0.0.1:6379', queue: 'jobs', startTimeout: 5000, root: '/srv/app', processes: 8 }),
    new Pool({ context: 'bullmq', connection: { host: 'redis.internal', port: 6380, password: 'secret', tls: { servername: 'redis.internal' } } }),
    getContext('bullmq').Pool({ processes: 4, connection: 'rediss://redis.internal:6380' }),
    new Pool(clusterOptions),
    // @ts-expect-error a connection is a URL or ioredis options
    new Pool({ context: 'bullmq', connection: 6379 }),
    // @ts-expect-error startTimeout is a number of milliseconds
    new Pool({ context: 'bullmq', startTimeout: '30s' }),
    // @ts-expect-error no such context
    new Pool({ context: 'redis' }),
  ];
}
