#!/usr/bin/env node
/**
 * A producer that never holds more than a bounded amount in memory. Lines come from a source
 * faster than the workers take them (here a generator of access-log lines; in life a file, a
 * socket, a database cursor), and each goes to the pool with `applyAsync`. The pool's `maxQueue`
 * bounds how many tasks may wait for a worker: a call past it is refused with QueueFullError, so
 * the producer waits for room with `await pool.drained()` whenever `pool.queueFull` says so.
 * Results come back through the callbacks and are folded into totals: nothing grows with the
 * input. At the end, `pool.stats()` says how the run went.
 *
 *   node examples/bounded-producer.mjs [--lines 200000] [--max-queue 1000] [--workers 2] [--context auto]
 *
 * (Tasks this small cost the pool more than they cost the worker: `imap` with a chunksize runs
 * them far faster, and bounds memory as well. One task per line stands here for work whose items
 * come one at a time and each take a while.)
 */
import { parseArgs } from 'node:util';
import { Pool, task } from '@mpool/pool';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '200000' },
    'max-queue': { type: 'string', default: '1000' },
    workers: { type: 'string', default: '2' },
    context: { type: 'string', default: 'auto' },
  },
});
const lineCount = Number(values.lines);
const maxQueue = Number(values['max-queue']);

/** One in this many requests fails on the server: the log's 503s. */
const FAILING_EVERY = 20;

/** The source: `lineCount` log lines, made one at a time as the loop asks for them. */
function* logLines() {
  for (let i = 0; i < lineCount; i++) {
    const status = i % FAILING_EVERY === 0 ? 503 : 200;
    yield `2026-01-01T00:00:00Z GET /items/${i} ${status} ${1000 + (i % 1000)}`;
  }
}

const fmt = (n) => n.toLocaleString('en');
const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(1).padStart(6)} MB`;
const parseLine = task(new URL('./bounded-producer-task.mjs', import.meta.url), 'parseLine');

const pool = new Pool({ processes: Number(values.workers), context: values.context, maxQueue });
try {
  console.log(`${fmt(lineCount)} log lines through ${pool.processes} workers (${pool.context}), maxQueue ${fmt(maxQueue)}`);
  const totals = { ok: 0, failed: 0, bytes: 0, errors: 0 };
  const tally = ({ status, bytes }) => {
    if (status >= 500) totals.failed += 1;
    else totals.ok += 1;
    totals.bytes += bytes;
  };
  const countError = () => {
    totals.errors += 1;
  };
  const started = performance.now();
  let sent = 0;
  let waits = 0;
  let mostWaiting = 0;
  let nextQuarter = 1;
  for (const line of logLines()) {
    if (pool.queueFull) {
      mostWaiting = Math.max(mostWaiting, pool.stats().tasks.queued);
      if (waits === 0) {
        // Once, to show it: a call past maxQueue is refused, and the line is still ours to send.
        try {
          pool.applyAsync(parseLine, [line]);
        } catch (error) {
          console.log(`a call while ${fmt(pool.stats().tasks.queued)} tasks wait is refused: ${error.name}: ${error.message}`);
        }
      }
      waits += 1;
      await pool.drained();
    }
    pool.applyAsync(parseLine, [line], { callback: tally, errorCallback: countError });
    sent += 1;
    while (sent * 4 >= nextQuarter * lineCount) {
      console.log(`  ${String(nextQuarter * 25).padStart(3)}%  ${fmt(sent)} lines sent, heapUsed ${mb(process.memoryUsage().heapUsed)}`);
      nextQuarter += 1;
    }
  }
  // close() lets the tasks still pending finish (their callbacks run), then the workers exit.
  await pool.close();
  const seconds = (performance.now() - started) / 1000;
  console.log(`${fmt(sent)} lines: ${fmt(totals.ok)} ok, ${fmt(totals.failed)} failed requests, ${fmt(totals.bytes)} bytes, ${fmt(totals.errors)} task errors  (${seconds.toFixed(2)} s)`);
  console.log(`at most ${fmt(mostWaiting)} tasks waited at once (maxQueue ${fmt(maxQueue)}); the producer waited for room ${fmt(waits)} times`);
  const { tasks, waitTime, utilization } = pool.stats();
  console.log(`stats: ${fmt(tasks.completed)} completed, ${fmt(tasks.failed)} failed, ${tasks.queued} queued; wait p50 ${waitTime.p50.toFixed(2)} ms, p99 ${waitTime.p99.toFixed(2)} ms; utilization ${Math.round(utilization * 100)}%`);
} finally {
  await pool.terminate();
}
