/**
 * Maps after a burst: what a pool's process pays for maps right after it has submitted many tasks
 * one by one. In run.mjs's tiny-task benchmark each pool maps after its one-by-one rounds and
 * after seconds of idle; this replays that sequence for one pool at a time, in a fresh process:
 *
 *   warm-up: 2,000 tasks one by one (all submitted, then awaited), then 10 maps;
 *   burst:   `burst` times 20,000 tasks one by one;
 *   after the burst: `rounds` rounds of `idle` ms of idle, then `maps` maps of 20,000 tiny tasks
 *            (chunksize 2,500);
 *   settled: `settle` more maps back to back, then the same rounds again.
 *
 * For each phase: the median map time, and the minor page faults (memory the process touches for
 * the first time since it had it) that the pool's own process took per map; its workers are
 * other processes, not counted. mpool 'spawn' runs in a child of this script
 * (`after-burst.mjs --child`), Python's multiprocessing.Pool in python/pools.py (benchmark
 * `burst`); each run is a fresh process, systems alternating, medians over the runs.
 *
 *   node after-burst.mjs                 full run; writes results/after-burst.json
 *   node after-burst.mjs --quick         smoke run; writes nothing
 *   --runs=N --out=PATH --python=CMD     override the defaults; --out also writes a quick run
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMachine, formatTable, loadAverage, median, parseFlags, positiveInt } from './lib/harness.mjs';
import { hasPython, startPython } from './lib/python.mjs';

const FULL = { tasks: 20_000, chunksize: 2_500, workers: 2, burst: 6, rounds: 8, maps: 4, idleMs: 300, settle: 300, runs: 3 };
const QUICK = { tasks: 2_000, chunksize: 250, workers: 2, burst: 1, rounds: 2, maps: 2, idleMs: 10, settle: 5, runs: 1 };
const WARMUP_TASKS = 2_000;
const WARMUP_MAPS = 10;
const DEFAULT_OUT = fileURLToPath(new URL('results/after-burst.json', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The sequence above on an mpool 'spawn' pool, in this process; returns both phases. */
async function mpoolSequence(config) {
  const { Pool, task } = await import('@mpool/pool');
  const inc = task(new URL('tasks/mpool-tasks.mjs', import.meta.url), 'inc');
  const pool = new Pool({ processes: config.workers, context: 'spawn' });
  const inputs = Array.from({ length: config.tasks }, (_, i) => i);
  const oneByOne = (xs) => Promise.all(xs.map((x) => pool.applyAsync(inc, [x])));
  const map = async () => {
    const results = await pool.map(inc, inputs, config.chunksize);
    if (results.length !== inputs.length || results.some((r, i) => r !== i + 1)) throw new Error('mpool spawn: a result differs from its input plus one');
  };
  const phase = async () => {
    const times = [];
    const faults = process.resourceUsage().minorPageFault;
    for (let round = 0; round < config.rounds; round++) {
      await sleep(config.idleMs);
      for (let i = 0; i < config.maps; i++) {
        const started = performance.now();
        await map();
        times.push(performance.now() - started);
      }
    }
    return { mapMs: median(times), faultsPerMap: (process.resourceUsage().minorPageFault - faults) / times.length };
  };
  try {
    await oneByOne(inputs.slice(0, WARMUP_TASKS));
    for (let i = 0; i < WARMUP_MAPS; i++) await map();
    for (let i = 0; i < config.burst; i++) await oneByOne(inputs);
    const afterBurst = await phase();
    for (let i = 0; i < config.settle; i++) await map();
    return { afterBurst, settled: await phase() };
  } finally {
    await pool.terminate();
  }
}

if (process.argv[2] === '--child') {
  console.log(JSON.stringify(await mpoolSequence(JSON.parse(process.argv[3]))));
  process.exit(0);
}

const flags = parseFlags(process.argv.slice(2), ['quick', 'runs', 'out', 'python'], { valued: ['runs', 'out', 'python'] });
const config = { ...(flags.quick ? QUICK : FULL) };
config.runs = positiveInt(flags, 'runs', config.runs);
const out = typeof flags.out === 'string' ? flags.out : flags.quick ? null : DEFAULT_OUT;
const pythonCommand = typeof flags.python === 'string' ? flags.python : 'python3';
const python = pythonCommand !== 'none' && hasPython(pythonCommand) ? pythonCommand : null;

/** One run of mpool's sequence, in a fresh Node process. */
function mpoolRun() {
  return JSON.parse(execFileSync(process.execPath, [SELF, '--child', JSON.stringify(config)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000 }));
}

/** One run of Python's sequence, in a fresh pools.py. */
async function pythonRun() {
  const driver = startPython(python, 'pool', 'burst', config);
  const info = await driver.ready;
  const result = await driver.run();
  await driver.stop();
  return { info, result };
}

const machine = describeMachine();
const load = { start: loadAverage() };
const runs = { 'mpool spawn': [], ...(python === null ? {} : { 'Python multiprocessing.Pool': [] }) };
let pythonInfo = null;
for (let run = 0; run < config.runs; run++) {
  runs['mpool spawn'].push(mpoolRun());
  if (python !== null) {
    const { info, result } = await pythonRun();
    pythonInfo = info;
    runs['Python multiprocessing.Pool'].push(result);
  }
  console.error(`after a burst: run ${run + 1}/${config.runs} done`);
}
load.end = loadAverage();

const summary = (samples, phase, key) => ({ median: median(samples.map((s) => s[phase][key])), samples: samples.map((s) => s[phase][key]) });
const systems = Object.fromEntries(
  Object.entries(runs).map(([name, samples]) => [
    name,
    {
      afterBurst: { mapMs: summary(samples, 'afterBurst', 'mapMs'), faultsPerMap: summary(samples, 'afterBurst', 'faultsPerMap') },
      settled: { mapMs: summary(samples, 'settled', 'mapMs'), faultsPerMap: summary(samples, 'settled', 'faultsPerMap') },
    },
  ]),
);

console.log(
  `maps after a burst: ${config.burst} × ${config.tasks.toLocaleString('en-US')} tasks one by one, then ${config.rounds} rounds of ${config.idleMs} ms idle and ${config.maps} maps ` +
    `(chunksize ${config.chunksize}); settled: after ${config.settle} more maps. ${config.workers} workers; ${machine.node}, ${machine.cpuModel}, ${machine.cores} cores; ` +
    `load average ${load.start.join(' ')}; medians of ${config.runs} runs`,
);
const ms = (x) => x.toFixed(2);
const count = (x) => x.toFixed(0);
console.log(
  formatTable(
    ['system', 'map after the burst, ms', 'page faults a map', 'map once settled, ms', 'page faults a map'],
    Object.entries(systems).map(([name, s]) => [name, ms(s.afterBurst.mapMs.median), count(s.afterBurst.faultsPerMap.median), ms(s.settled.mapMs.median), count(s.settled.faultsPerMap.median)]),
  ),
);

if (out !== null) {
  const report = { benchmark: 'after-burst', date: new Date().toISOString(), machine, config, loadAverage: load, python: pythonInfo, systems };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwritten to ${out}`);
}
