/**
 * Tasks written in TypeScript, typed end to end, run on threads and on processes, each pool
 * ended by `await using` as Python's `with Pool() as pool` ends it.
 *
 *   npx -y pnpm@12.4.2 --filter @mpool/examples typescript-tasks      # compiles, then runs
 *   node examples/typescript-tasks/dist/main.js [--limit 300000] [--workers 2] [--contexts thread,spawn]
 *
 * or, with no build step, under tsx (task modules in TypeScript load in every context):
 *   npx -y pnpm@12.4.2 --filter @mpool/examples typescript-tasks-tsx
 *   npx tsx examples/typescript-tasks/main.ts [--contexts thread,fork,spawn,forkserver,auto]
 */
import { parseArgs } from 'node:util';
import { Pool, task, type ContextName } from '@mpool/pool';
// A type-only import: main never loads the tasks itself, the workers do.
import type * as Tasks from './tasks.js';

const { values } = parseArgs({
  options: {
    limit: { type: 'string', default: '300000' },
    workers: { type: 'string', default: '2' },
    contexts: { type: 'string', default: 'thread,spawn' },
  },
});
const limit = Number(values.limit);
const workers = Number(values.workers);
const contexts = values.contexts.split(',') as ContextName[];

// The task module sits beside this file, in the same language: tasks.ts beside main.ts under
// tsx, dist/tasks.js beside dist/main.js once compiled. The URL holds from wherever this is run.
const tasksUrl = new URL(import.meta.url.endsWith('.ts') ? './tasks.ts' : './tasks.js', import.meta.url);
// Written out, or taken from the module's own types: either way the pool's methods check
// arguments and type results.
const collatzSteps = task<(n: number) => number>(tasksUrl, 'collatzSteps');
const topWords = task<typeof Tasks.topWords>(tasksUrl, 'topWords');
const workerId = task<typeof Tasks.workerId>(tasksUrl, 'workerId');

const TEXT = 'the pool of workers takes the work; the workers give the results back in the order of the work';

let lastPool: Pool | undefined;
for (const context of contexts) {
  await using pool = new Pool({ processes: workers, context });
  lastPool = pool;

  const numbers = Array.from({ length: limit - 1 }, (_, i) => i + 1);
  const steps: number[] = await pool.map(collatzSteps, numbers);
  let longest = 0;
  for (let i = 1; i < steps.length; i++) if (steps[i] > steps[longest]) longest = i;
  const top: Tasks.WordCount[] = await pool.apply(topWords, [TEXT, 3]);
  const ids = new Set(await pool.map(workerId, Array.from({ length: 4 * workers }), 1));

  console.log(`${context}: ${pool.processes} workers; workerId() answered from ${[...ids].join(', ')}`);
  console.log(`  below ${limit.toLocaleString('en')}, ${numbers[longest]} takes the most Collatz steps: ${steps[longest]}`);
  console.log(`  top words: ${top.map(({ word, count }) => `${word} ×${count}`).join(', ')}`);

  // Compile-time checks, never run: tsc fails the build if mpool stops catching these.
  const wrongUse = async (): Promise<void> => {
    // @ts-expect-error collatzSteps takes a number, not a string
    await pool.apply(collatzSteps, ['27']);
    // @ts-expect-error topWords gives WordCount objects, not strings
    const words: string[] = await pool.apply(topWords, [TEXT, 3]);
    void words;
  };
  void wrongUse;
}
// Each pass's `await using` terminated its pool at the end of the loop body.
console.log(`after the block, the last pool is '${lastPool?.state}'`);
