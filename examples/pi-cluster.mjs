#!/usr/bin/env node
/**
 * The article's pi, on a cluster: the same `applyAsync` code as pi.mjs, with `context: 'bullmq'`.
 * Here the "cluster" is this machine: the example starts a Redis server (unless --redis names
 * one) and `mpool-worker` processes, runs pi on one worker and then on two, and stops all it
 * started, whatever happens.
 *
 *   node examples/pi-cluster.mjs [--terms 1000000000] [--chunks 16] [--redis redis://host:6379]
 *
 * On real machines, run on each (from the same checkout):
 *   mpool-worker --redis redis://redis-host:6379 --queue pi --concurrency 8 --root /srv/checkout/examples
 * and in the program: new Pool({ context: 'bullmq', connection: 'redis://redis-host:6379', queue: 'pi', processes: 32 })
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool, task } from '@mpool/pool';

const { values } = parseArgs({
  options: {
    terms: { type: 'string', default: '1000000000' },
    chunks: { type: 'string', default: '16' },
    redis: { type: 'string' },
  },
});
const terms = Number(values.terms);
const chunks = Number(values.chunks);
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const workerCommand = join(dirname(require.resolve('@mpool/bullmq/package.json')), require('@mpool/bullmq/package.json').bin['mpool-worker']);
const QUEUE = 'pi';
/** How long Redis or a worker may take to start before the example gives up. */
const START_LIMIT_MS = 15_000;

const partialPi = task(new URL('./pi-task.mjs', import.meta.url), 'partialPi');
const started = [];

/** A port nothing listens on, for the example's own Redis. */
async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

/** Starts `command`, and resolves once a line of its output matches `ready`. */
function startProcess(command, args, ready) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${command} did not start:\n${output}`)), START_LIMIT_MS);
    const read = (chunk) => {
      output += chunk;
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('error', (error) => reject(new Error(`${command} could not start: ${error.message}`)));
    child.once('exit', (code) => reject(new Error(`${command} exited (code ${code}):\n${output}`)));
  });
}

/** An mpool-worker serving the queue with one worker thread, finding task modules here. */
function startWorker(redis) {
  return startProcess(process.execPath, [workerCommand, '--redis', redis, '--queue', QUEUE, '--concurrency', '1', '--root', here], / serves /);
}

/** The article's computation: split the series, applyAsync each part, wait for all, add up. */
async function computePi(redis, workers) {
  // `processes` is how many tasks the pool keeps in flight on the cluster: two a worker, so that
  // each has its next task waiting in Redis when it finishes one.
  const pool = new Pool({ context: 'bullmq', connection: redis, queue: QUEUE, root: here, processes: 2 * workers });
  try {
    await pool.apply(partialPi, [1, 1]); // the first job: the pool is connected
    const begin = performance.now();
    const size = Math.ceil(terms / chunks);
    const results = [];
    for (let first = 1; first <= terms; first += size) results.push(pool.applyAsync(partialPi, [first, Math.min(first + size - 1, terms)]));
    let pi = 0;
    for (const result of results) pi += await result.get();
    return { pi, ms: performance.now() - begin };
  } finally {
    await pool.close();
  }
}

async function main() {
  let redis = values.redis;
  if (redis === undefined) {
    const port = await freePort();
    try {
      await startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], /Ready to accept connections/);
    } catch (error) {
      throw new Error(`${error.message}\nThis example needs redis-server (apt-get install -y redis-server), or --redis redis://host:port`);
    }
    redis = `redis://127.0.0.1:${port}`;
  }
  console.log(`pi from ${terms.toLocaleString('en')} terms of the series, in ${chunks} tasks, through BullMQ on ${redis}`);
  await startWorker(redis);
  const one = await computePi(redis, 1);
  await startWorker(redis);
  const two = await computePi(redis, 2);
  for (const [n, run] of [[1, one], [2, two]]) {
    console.log(`  bullmq  ${n} mpool-worker${n === 1 ? ' ' : 's'}  pi ≈ ${run.pi.toFixed(12)}  error ${Math.abs(run.pi - Math.PI).toExponential(2)}  ${run.ms.toFixed(0).padStart(6)} ms`);
  }
  console.log(`  bullmq  speed-up with 2 mpool-workers: ${(one.ms / two.ms).toFixed(2)}×`);
}

/** Stops every process the example started: workers first (they finish what they hold), Redis last. */
async function cleanUp() {
  for (const child of started.reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
  console.log(`stopped the ${started.length} processes the example started`);
}

try {
  await main();
} finally {
  await cleanUp();
}
