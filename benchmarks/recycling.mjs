/**
 * Worker recycling: one worker replaced after every task (`maxtasksperchild: 1`, `processes: 1`),
 * tasks applied one after another, each awaited before the next. Nearly all the time goes into
 * starting workers, so this shows what the forkserver's warm spare saves against 'spawn', which
 * boots every replacement from nothing; 'thread' is there for reference.
 *
 * Flow: every pool is created once and warmed up (one unmeasured run); then each round runs every
 * context once, starting from a different one each round. The table gives each context's median
 * rate over the rounds and the ratio forkserver / spawn.
 *
 *   node recycling.mjs                   full run; writes results/recycling.json
 *   node recycling.mjs --quick           smoke run (4 tasks, 2 rounds); writes nothing
 *   --only=NAME[,NAME]                   only the contexts whose name contains NAME; writes nothing
 *   --tasks=N --rounds=N --out=PATH      override the defaults; --out also writes a quick run
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool, task } from '@mpool/pool';
import {
  describeMachine,
  formatTable,
  loadAverage,
  median,
  parseFlags,
  positiveInt,
  runInterleaved,
} from './lib/harness.mjs';

/** One worker, so every task waits for the replacement of the worker that ran the one before. */
const WORKERS = 1;
/** Every worker runs exactly one task, as Python's `maxtasksperchild=1`. */
const MAX_TASKS_PER_CHILD = 1;
const CONTEXTS = ['forkserver', 'spawn', 'thread'];
const FULL = { tasks: 100, rounds: 7, warmupRuns: 1 };
// Enough to see every context recycle end to end in a few seconds, not enough to trust the numbers.
const QUICK = { tasks: 4, rounds: 2, warmupRuns: 1 };
const DEFAULT_OUT = fileURLToPath(new URL('results/recycling.json', import.meta.url));
const RATIOS = [
  ['forkserver', 'spawn'],
  ['forkserver', 'thread'],
  ['spawn', 'thread'],
];

const flags = parseFlags(process.argv.slice(2), ['quick', 'only', 'tasks', 'rounds', 'out']);
const preset = flags.quick ? QUICK : FULL;
const config = {
  tasks: positiveInt(flags, 'tasks', preset.tasks),
  rounds: positiveInt(flags, 'rounds', preset.rounds),
  warmupRuns: preset.warmupRuns,
  processes: WORKERS,
  maxtasksperchild: MAX_TASKS_PER_CHILD,
};
const only = typeof flags.only === 'string' ? flags.only.split(',') : null;
const contexts = CONTEXTS.filter((c) => only === null || only.some((part) => c.includes(part)));
if (contexts.length === 0) throw new RangeError(`--only=${flags.only} matches no context`);
// A partial or quick run must not overwrite the full results unless asked to.
const out = typeof flags.out === 'string' ? flags.out : flags.quick || only !== null ? null : DEFAULT_OUT;

const inc = task(new URL('tasks/mpool-tasks.mjs', import.meta.url), 'inc');

/** A pool of one worker in `context`, recycled after every task. */
function recycledPool(context) {
  let pool;
  return {
    name: context,
    start() {
      pool = new Pool({ processes: WORKERS, maxtasksperchild: MAX_TASKS_PER_CHILD, context });
    },
    /** `tasks` tasks, each applied after the one before has answered. */
    async run(tasks) {
      for (let i = 0; i < tasks; i++) {
        const result = await pool.apply(inc, [i]);
        if (result !== i + 1) throw new Error(`${context}: task ${i} returned ${result}, expected ${i + 1}`);
      }
    },
    stop: () => pool.terminate(),
  };
}

const measure = async (system) => {
  const started = performance.now();
  await system.run(config.tasks);
  return config.tasks / ((performance.now() - started) / 1000);
};

/** Rates here are tens to hundreds a second: one decimal. */
const rate = (value) => value.toFixed(1);

const machine = describeMachine();
const load = { start: loadAverage() };
const samples = await runInterleaved(contexts.map(recycledPool), {
  rounds: config.rounds,
  warmupRuns: config.warmupRuns,
  measure,
});
load.end = loadAverage();

const medians = Object.fromEntries([...samples].map(([name, rates]) => [name, median(rates)]));
const ratios = RATIOS.filter(([a, b]) => a in medians && b in medians).map(([a, b]) => ({
  context: a,
  against: b,
  ratio: medians[a] / medians[b],
}));

console.log(
  `recycling: ${config.tasks} tasks one after another, ${WORKERS} worker replaced after every task, ` +
    `${config.rounds} rounds; ${machine.node}, ${machine.cpuModel}, ${machine.cores} cores; ` +
    `load average ${load.start.join(' ')}`,
);
console.log(
  formatTable(
    ['context', 'median tasks/s', 'ms per task', 'min', 'max'],
    [...samples].map(([name, rates]) => [
      name,
      rate(medians[name]),
      (1000 / medians[name]).toFixed(1),
      rate(Math.min(...rates)),
      rate(Math.max(...rates)),
    ]),
  ),
);
if (ratios.length > 0) {
  console.log();
  console.log(formatTable(['ratio of rates', 'ratio'], ratios.map((r) => [`${r.context} / ${r.against}`, r.ratio.toFixed(2)])));
}

if (out !== null) {
  const report = {
    benchmark: 'recycling',
    date: new Date().toISOString(),
    machine,
    config,
    loadAverage: load,
    systems: Object.fromEntries(
      [...samples].map(([name, rates]) => [name, { medianTasksPerSecond: medians[name], tasksPerSecond: rates }]),
    ),
    ratios,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwritten to ${out}`);
}
