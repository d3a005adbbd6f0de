#!/usr/bin/env node
/**
 * Computing pi using AsyncResult, as in the article: split the series into chunks, `applyAsync`
 * each, wait for all, add them up. Runs with 1 worker and with N, on threads and on processes,
 * and prints the estimate, its error, the wall time and the speed-up.
 *
 *   node examples/pi.mjs [--terms 1000000000] [--chunks 16] [--workers N] [--contexts thread,spawn]
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Pool, task } from '@mpool/pool';

const { values } = parseArgs({
  options: {
    terms: { type: 'string', default: '1000000000' },
    chunks: { type: 'string', default: '16' },
    workers: { type: 'string', default: String(availableParallelism()) },
    contexts: { type: 'string', default: 'thread,spawn' },
  },
});
const terms = Number(values.terms);
const chunks = Number(values.chunks);
const workers = Number(values.workers);
const contexts = values.contexts.split(',');

const partialPi = task(new URL('./pi-task.mjs', import.meta.url), 'partialPi');
const workerTag = task(new URL('./pi-task.mjs', import.meta.url), 'workerTag');

/** Milliseconds each warm-up task keeps its worker busy, so that the others get theirs. */
const WARM_UP_TASK_MS = 20;

/** Returns once every worker has answered: start-up is not what this example measures. */
async function warmUp(pool, processes) {
  const seen = new Set();
  while (seen.size < processes) {
    const tags = await pool.map(workerTag, Array(processes * 2).fill(WARM_UP_TASK_MS), 1);
    for (const tag of tags) seen.add(tag);
  }
}

/** Splits 1..terms into `chunks` ranges, applyAsync's each, waits for all, and adds them up. */
async function computePi(context, processes) {
  const pool = new Pool({ processes, context });
  try {
    await warmUp(pool, processes);
    const started = performance.now();
    const size = Math.ceil(terms / chunks);
    const results = [];
    for (let first = 1; first <= terms; first += size) {
      results.push(pool.applyAsync(partialPi, [first, Math.min(first + size - 1, terms)]));
    }
    for (const result of results) await result.wait();
    let pi = 0;
    for (const result of results) pi += await result.get();
    return { pi, ms: performance.now() - started };
  } finally {
    await pool.terminate();
  }
}

console.log(`pi from ${terms.toLocaleString('en')} terms of the series, in ${chunks} tasks`);
for (const context of contexts) {
  const one = await computePi(context, 1);
  const many = await computePi(context, workers);
  for (const [n, run] of [[1, one], [workers, many]]) {
    console.log(
      `  ${context.padEnd(10)} ${String(n).padStart(2)} worker${n === 1 ? ' ' : 's'}  pi ≈ ${run.pi.toFixed(12)}` +
        `  error ${Math.abs(run.pi - Math.PI).toExponential(2)}  ${run.ms.toFixed(0).padStart(6)} ms`,
    );
  }
  console.log(`  ${context.padEnd(10)} speed-up with ${workers} workers: ${(one.ms / many.ms).toFixed(2)}×`);
}
