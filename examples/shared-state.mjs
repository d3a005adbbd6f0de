#!/usr/bin/env node
/**
 * State shared between tasks, as Python's `multiprocessing.Manager()`: the Manager keeps a
 * counter, a lock, a list and two queues in this process, and tasks get proxies to them.
 *
 *   node examples/shared-state.mjs [--workers 2] [--tasks 8] [--increments 100] [--items 40] [--jobs 20] [--context auto]
 *
 * The manager and the pool end in `finally`; in TypeScript, `await using` does the same.
 */
import { parseArgs } from 'node:util';
import { Manager, Pool, task } from '@mpool/pool';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' },
    tasks: { type: 'string', default: '8' },
    increments: { type: 'string', default: '100' },
    items: { type: 'string', default: '40' },
    jobs: { type: 'string', default: '20' },
    context: { type: 'string', default: 'auto' },
  },
});
const workers = Number(values.workers);
const tasks = Number(values.tasks);
const increments = Number(values.increments);
const items = Number(values.items);
const jobCount = Number(values.jobs);
const range = (n) => Array.from({ length: n }, (_, i) => i);

const tasksModule = new URL('./shared-state-task.mjs', import.meta.url);
const addUnderLock = task(tasksModule, 'addUnderLock');
const record = task(tasksModule, 'record');
const squareJobs = task(tasksModule, 'squareJobs');

const manager = new Manager();
const pool = new Pool({ processes: workers, context: values.context });
try {
  console.log(`${pool.processes} workers (${pool.context})`);

  // A counter that every task adds to, under a lock (a shared object is passed like any argument).
  const counter = manager.value(0);
  const lock = manager.lock();
  await pool.starmap(addUnderLock, range(tasks).map(() => [counter, lock, increments]), 1);
  console.log(`counter: ${await counter.get()} after ${tasks} tasks × ${increments} increments under the lock (expected ${tasks * increments})`);

  // A list that every task appends to.
  const list = manager.list();
  await pool.starmap(record, range(items).map((i) => [list, i]));
  const recorded = (await list.toArray()).sort((a, b) => a - b);
  console.log(`list: ${recorded.length} items from ${items} tasks, each exactly once: ${recorded.every((x, i) => x === i)}`);

  // Queues: the tasks wait for jobs that this process puts, and put back what they make of them.
  const jobs = manager.queue();
  const results = manager.queue();
  const consumers = range(pool.processes).map(() => pool.applyAsync(squareJobs, [jobs, results]));
  for (const x of range(jobCount)) await jobs.put(x);
  for (const _ of consumers) await jobs.put(null); // one "no more" for each consumer
  let sum = 0;
  for (const _ of range(jobCount)) sum += await results.get();
  const done = await Promise.all(consumers);
  console.log(`queue: ${jobCount} jobs put while ${consumers.length} tasks waited for them (they took ${done.join(' and ')}); sum of the squares ${sum}`);
} finally {
  await pool.terminate();
  await manager.close();
}
