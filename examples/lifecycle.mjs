#!/usr/bin/env node
/**
 * A pool's life: an initializer with its initargs, workers recycled after `maxtasksperchild`
 * tasks, and the two ways to end, `close()` + `join()` (finish the pending work) against
 * `terminate()` (drop it: pending results reject with PoolStateError).
 *
 *   node examples/lifecycle.mjs [--tasks 12] [--max 3] [--workers 2] [--task-ms 200] [--contexts thread,spawn]
 *
 * Each pool here ends in `finally`; in TypeScript (or on Node versions that parse it),
 * `await using pool = new Pool()` does the same: see typescript-tasks/main.ts.
 */
import { parseArgs } from 'node:util';
import { Pool, PoolStateError, task } from '@mpool/pool';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '12' },
    max: { type: 'string', default: '3' },
    workers: { type: 'string', default: '2' },
    'task-ms': { type: 'string', default: '200' },
    contexts: { type: 'string', default: 'thread,spawn' },
  },
});
const tasks = Number(values.tasks);
const maxtasksperchild = Number(values.max);
const workers = Number(values.workers);
const taskMs = Number(values['task-ms']);

const tasksModule = new URL('./lifecycle-task.mjs', import.meta.url);
const setUp = task(tasksModule, 'setUp');
const whoAmI = task(tasksModule, 'whoAmI');
const slowEcho = task(tasksModule, 'slowEcho');

/** Runs `tasks` items one per task and shows which worker ran each, and what it had been told. */
async function recycling(context) {
  const pool = new Pool({
    processes: workers,
    context,
    initializer: setUp,
    initargs: [`hello from ${context}`],
    maxtasksperchild,
  });
  try {
    console.log(`${context}: ${workers} workers, initializer setUp('hello from ${context}'), maxtasksperchild ${maxtasksperchild}`);
    const items = Array.from({ length: tasks }, (_, i) => i);
    const reports = await pool.map(whoAmI, items, 1); // chunksize 1: each item is one task
    for (const r of reports) {
      console.log(`  item ${String(r.item).padStart(2)}  worker ${r.worker.padEnd(12)}  its task #${r.tasksRun}  greeting '${r.greeting}'`);
    }
    const perWorker = new Map();
    for (const r of reports) perWorker.set(r.worker, Math.max(perWorker.get(r.worker) ?? 0, r.tasksRun));
    const busiest = Math.max(...perWorker.values());
    const initialisedOnce = reports.every((r) => r.initializerRuns === 1 && r.greeting === `hello from ${context}`);
    console.log(
      `  ${tasks} tasks ran on ${perWorker.size} different workers; the busiest ran ${busiest}` +
        ` (maxtasksperchild ${maxtasksperchild}); every worker ran the initializer once: ${initialisedOnce}`,
    );
  } finally {
    await pool.terminate();
  }
}

/** close(): no new work, but what is pending finishes; join() waits for the workers to exit. */
async function closeThenJoin() {
  const pool = new Pool(workers);
  try {
    const started = performance.now();
    const results = [0, 1, 2, 3].map((i) => pool.applyAsync(slowEcho, [i, taskMs]));
    const closed = pool.close();
    console.log(`close() with ${results.length} tasks of ${taskMs} ms pending: state is '${pool.state}'`);
    try {
      pool.applyAsync(slowEcho, [4, 0]);
    } catch (error) {
      if (!(error instanceof PoolStateError)) throw error;
      console.log(`  new work is refused: ${error.name}: ${error.message}`);
    }
    await pool.join();
    await closed; // resolved by now: close() and join() wait for the same exit
    const delivered = results.filter((r) => r.ready() && r.successful());
    console.log(
      `  join() resolved after ${Math.round(performance.now() - started)} ms;` +
        ` ${delivered.length} of ${results.length} results delivered: [${(await Promise.all(results)).join(', ')}]`,
    );
  } finally {
    await pool.terminate(); // nothing left to stop; harmless after close()
  }
}

/** terminate(): the workers stop now, and every pending result rejects with PoolStateError. */
async function terminateNow() {
  const pool = new Pool(workers);
  try {
    try {
      await pool.join();
    } catch (error) {
      if (!(error instanceof PoolStateError)) throw error;
      console.log(`join() on a running pool: ${error.name}: ${error.message}`);
    }
    const results = [0, 1, 2, 3].map((i) => pool.applyAsync(slowEcho, [i, taskMs]));
    await pool.terminate();
    console.log(`terminate() with ${results.length} tasks of ${taskMs} ms pending: state is '${pool.state}'`);
    const outcomes = await Promise.allSettled(results.map((r) => r.get()));
    const rejected = outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof PoolStateError);
    console.log(`  ${results.length - rejected.length} delivered, ${rejected.length} rejected with PoolStateError: ${rejected[0]?.reason.message}`);
  } finally {
    await pool.terminate();
  }
}

for (const context of values.contexts.split(',')) await recycling(context);
await closeThenJoin();
await terminateNow();
