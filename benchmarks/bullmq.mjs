/**
 * mpool's 'bullmq' context against plain BullMQ code written the usual way (one job per task, or
 * per chunk of items, and `job.waitUntilFinished`), both on a Redis server and worker processes of
 * this machine (lib/local-cluster.mjs):
 *
 *   one at a time   300 tiny tasks, each awaited before the next: ms per task
 *   tiny            20,000 tiny tasks at once: tasks/s
 *   map 1,000       1,000,000 tiny items in chunks of 1,000: items/s
 *   map 10,000      the same in chunks of 10,000: items/s
 *   pi              the Leibniz series (200,000,000 terms in 16 tasks) on 1 worker and on 2: speed-up
 *
 * Every system runs each benchmark once a round, the first changing from round to round; the
 * figures are medians over the rounds. Without redis-server the benchmark is skipped, saying so.
 *
 *   node bullmq.mjs [--quick] [--rounds=N] [--rows=pi,tiny,…] [--out DIR]
 *
 * A full run writes results/bullmq.json; a quick or partial one (--rows) only into --out's DIR.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { Pool, task } from '@mpool/pool';
import { describeMachine, formatTable, loadAverage, median, parseFlags, positiveInt, rotate } from './lib/harness.mjs';
import { hasRedisServer, LocalCluster } from './lib/local-cluster.mjs';

const FULL = { oneByOne: 300, tiny: 20_000, items: 1_000_000, piTerms: 200_000_000, piTasks: 16, rounds: 5 };
// Enough to see every row measured end to end, not enough to trust the numbers.
const QUICK = { oneByOne: 30, tiny: 2_000, items: 100_000, piTerms: 8_000_000, piTasks: 16, rounds: 1 };
/** Lanes of the mpool pool for pi, for each worker (see mpoolSystem). */
const LANES_PER_PI_WORKER = 2;
/** Lanes of the mpool pool for the throughput rows: enough jobs in flight to hide the round trip through Redis. */
const THROUGHPUT_LANES = 8;
/**
 * Jobs a plain BullMQ worker runs at once on the main queue: what its users set for quick jobs
 * (with 1, tiny jobs wait on each job's round trips to Redis). A CPU-bound processor still runs
 * one job at a time, so pi is not favoured.
 */
const PLAIN_CONCURRENCY = 8;
/** Events plain BullMQ's stream keeps: more than the largest row makes (about 4 a job). */
const PLAIN_EVENTS_MAX_LEN = 200_000;
/** A row that takes longer than this is stuck: the benchmark fails rather than wait. */
const ROW_LIMIT_MS = 120_000;
/**
 * Plain BullMQ keeps finished jobs for an hour, as `removeOnComplete` is usually set: removing
 * them at once, or past a count, makes waitUntilFinished fail ("Missing key") when a job ends
 * before its wait begins. The queues are emptied at the end.
 */
const KEEP_COMPLETED = { age: 3600 };

const flags = parseFlags(process.argv.slice(2), ['quick', 'rounds', 'rows', 'out'], { valued: ['rounds', 'rows', 'out'] });
const preset = flags.quick ? QUICK : FULL;
const rounds = positiveInt(flags, 'rounds', preset.rounds);
const HERE = fileURLToPath(new URL('.', import.meta.url));
const TASKS = join(HERE, 'tasks');

if (!hasRedisServer()) {
  console.log('bullmq.mjs: skipped, redis-server is not installed here (apt-get install -y redis-server, or brew install redis)');
  process.exit(0);
}

const inc = task(join(TASKS, 'mpool-tasks.mjs'), 'inc');
const partialPi = task(join(TASKS, 'pi-task.mjs'), 'partialPi');
const range = (n) => Array.from({ length: n }, (_, i) => i);
const piParts = () => {
  const size = Math.ceil(preset.piTerms / preset.piTasks);
  return range(preset.piTasks).map((i) => [i * size + 1, Math.min((i + 1) * size, preset.piTerms)]);
};

/** mpool: a 'bullmq' pool per queue and size, made once. */
function mpoolSystem(url) {
  const pools = new Map();
  const pool = (queue, processes) => {
    const key = `${queue}/${processes}`;
    if (!pools.has(key)) pools.set(key, new Pool({ context: 'bullmq', connection: url, queue, processes, root: TASKS }));
    return pools.get(key);
  };
  const main = () => pool('mpool', THROUGHPUT_LANES);
  return {
    name: 'mpool bullmq',
    async oneByOne(n) {
      const one = pool('mpool', 1);
      for (let i = 0; i < n; i++) await one.apply(inc, [i]);
    },
    tiny: (n) => Promise.all(range(n).map((i) => main().applyAsync(inc, [i]).get())),
    map: (items, chunksize) => main().map(inc, items, chunksize),
    // Two lanes a worker: one task runs while the next waits in Redis, so that no worker waits a
    // round trip between tasks (one lane a worker would send a task only once the last is back).
    pi: (workers) => Promise.all(piParts().map((args) => pool(workers === 1 ? 'mpool-one' : 'mpool', LANES_PER_PI_WORKER * workers).apply(partialPi, args))),
    stop: () => Promise.all([...pools.values()].map((p) => p.close())),
  };
}

/** Plain BullMQ, the usual way: add jobs, wait for each with waitUntilFinished. */
function plainSystem(url) {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queues = new Map();
  const on = (name) => {
    if (!queues.has(name)) {
      // The events stream holds 10,000 events by default, fewer than 20,000 jobs make: their
      // waitUntilFinished would wait forever for the events trimmed away. Users raise it.
      const queue = new Queue(name, { connection, streams: { events: { maxLen: PLAIN_EVENTS_MAX_LEN } } });
      // Each waitUntilFinished listens on the queue: thousands at once is the usual way's cost, not a leak.
      queue.setMaxListeners(0);
      queues.set(name, { queue, events: new QueueEvents(name, { connection: { host: new URL(url).hostname, port: Number(new URL(url).port) } }) });
    }
    return queues.get(name);
  };
  const run = async (name, jobs) => {
    const { queue, events } = on(name);
    const added = await queue.addBulk(jobs.map(([jobName, data]) => ({ name: jobName, data, opts: { removeOnComplete: KEEP_COMPLETED } })));
    return Promise.all(added.map((job) => job.waitUntilFinished(events)));
  };
  return {
    name: 'plain BullMQ',
    async start() {
      for (const name of ['plain', 'plain-one']) await on(name).events.waitUntilReady();
    },
    async oneByOne(n) {
      const { queue, events } = on('plain');
      for (let i = 0; i < n; i++) await (await queue.add('inc', { x: i }, { removeOnComplete: KEEP_COMPLETED })).waitUntilFinished(events);
    },
    tiny: (n) => run('plain', range(n).map((x) => ['inc', { x }])),
    async map(items, chunksize) {
      const chunks = [];
      for (let i = 0; i < items.length; i += chunksize) chunks.push(['chunk', { items: items.slice(i, i + chunksize) }]);
      return (await run('plain', chunks)).flat();
    },
    pi: (workers) => run(workers === 1 ? 'plain-one' : 'plain', piParts().map(([first, last]) => ['pi', { first, last }])),
    async stop() {
      for (const { queue, events } of queues.values()) {
        await queue.obliterate({ force: true });
        await Promise.all([queue.close(), events.close()]);
      }
      connection.disconnect();
    },
  };
}

/** Milliseconds `fn` takes; past ROW_LIMIT_MS it fails. */
async function timed(fn) {
  const started = performance.now();
  let timer;
  try {
    await Promise.race([fn(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`a run took over ${ROW_LIMIT_MS} ms`)), ROW_LIMIT_MS)))]);
  } finally {
    clearTimeout(timer);
  }
  return performance.now() - started;
}

const ROWS = [
  { key: 'oneByOne', label: 'one task at a time, ms per task', run: (s) => timed(() => s.oneByOne(preset.oneByOne)).then((ms) => ms / preset.oneByOne), lowerIsBetter: true },
  { key: 'tiny', label: 'tiny tasks at once, tasks/s', run: (s) => timed(() => s.tiny(preset.tiny)).then((ms) => preset.tiny / (ms / 1000)) },
  { key: 'map1000', label: 'map, chunks of 1,000, items/s', run: (s) => timed(() => s.map(range(preset.items), 1_000)).then((ms) => preset.items / (ms / 1000)) },
  { key: 'map10000', label: 'map, chunks of 10,000, items/s', run: (s) => timed(() => s.map(range(preset.items), 10_000)).then((ms) => preset.items / (ms / 1000)) },
  {
    key: 'piSpeedup',
    label: 'pi, speed-up 1 → 2 workers',
    run: async (s) => (await timed(() => s.pi(1))) / (await timed(() => s.pi(2))),
  },
];

const rows = typeof flags.rows === 'string' ? flags.rows.split(',') : null;
for (const key of rows ?? []) {
  if (!ROWS.some((row) => row.key === key)) throw new RangeError(`Expected --rows to name ${ROWS.map((row) => row.key).join(', ')}; got \`${key}\``);
}
const chosen = ROWS.filter((row) => rows === null || rows.includes(row.key));

async function main() {
  const cluster = new LocalCluster();
  // Stopped from outside: what the benchmark started goes with it.
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void cluster.stopAll().finally(() => process.exit(1)));
  const samples = {};
  const loadBefore = loadAverage();
  let systems = [];
  try {
    const url = await cluster.redis();
    // Two of each worker on the main queues, one on the '-one' queues (pi on one worker).
    await Promise.all([
      cluster.mpoolWorker(url, 'mpool', TASKS),
      cluster.mpoolWorker(url, 'mpool', TASKS),
      cluster.mpoolWorker(url, 'mpool-one', TASKS),
      cluster.plainWorker(url, 'plain', PLAIN_CONCURRENCY),
      cluster.plainWorker(url, 'plain', PLAIN_CONCURRENCY),
      cluster.plainWorker(url, 'plain-one', PLAIN_CONCURRENCY),
    ]);
    systems = [mpoolSystem(url), plainSystem(url)];
    for (const system of systems) await system.start?.();
    for (const row of chosen) {
      for (const system of systems) await row.run(system); // warm-up
      for (let round = 0; round < rounds; round++) {
        for (const system of rotate(systems, round)) ((samples[system.name] ??= {})[row.key] ??= []).push(await row.run(system));
      }
      process.stderr.write(`bullmq.mjs: ${row.label} done\n`);
    }
  } finally {
    await Promise.allSettled(systems.map((system) => system.stop()));
    await cluster.stopAll();
  }
  const [mine, peer] = ['mpool bullmq', 'plain BullMQ'].map((name) => Object.fromEntries(chosen.map((row) => [row.key, median(samples[name][row.key])])));
  const format = (value) => (value >= 100 ? Math.round(value).toLocaleString('en') : value.toFixed(2));
  const table = formatTable(
    ['benchmark', 'mpool bullmq', 'plain BullMQ', 'mpool ÷ plain'],
    chosen.map((row) => [row.label, format(mine[row.key]), format(peer[row.key]), (row.lowerIsBetter ? peer[row.key] / mine[row.key] : mine[row.key] / peer[row.key]).toFixed(2)]),
  );
  console.log(`\n2 workers of each (mpool-worker --concurrency 1; plain BullMQ concurrency ${PLAIN_CONCURRENCY}) and one more for pi on 1 worker; Redis on this machine; medians over ${rounds} round(s)`);
  console.log('mpool ÷ plain: above 1 mpool does better (for ms per task, plain ÷ mpool)\n');
  console.log(table);
  const out = typeof flags.out === 'string' ? flags.out : flags.quick || rows !== null ? undefined : join(HERE, 'results');
  if (out !== undefined) {
    const report = { when: new Date().toISOString(), machine: describeMachine(), loadBefore, loadAfter: loadAverage(), preset, rounds, medians: { 'mpool bullmq': mine, 'plain BullMQ': peer }, samples };
    writeFileSync(join(out, 'bullmq.json'), `${JSON.stringify(report, null, 2)}\n`);
  }
}

await main();
