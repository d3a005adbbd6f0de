/**
 * Tiny-task throughput: how many tasks a second each pool gets through when the task itself costs
 * next to nothing (a number in, that number plus one out), so what is measured is the pool's own
 * cost per task: submitting, sending, scheduling, answering.
 *
 * Flow: every pool is created once and warmed up (WARMUP_RUNS full runs, unmeasured); then each
 * round runs every system once, starting from a different one each round; a run submits all
 * tasks at once and awaits them all. The table gives each system's median rate over the rounds.
 *
 *   node tiny-tasks.mjs                 full run; writes results/tiny-tasks.json
 *   node tiny-tasks.mjs --quick         smoke run (2,000 tasks, 2 rounds); writes nothing
 *   --only=NAME[,NAME]                  run only systems whose name contains NAME (e.g. applyAsync)
 *   --tasks=N --rounds=N --out=PATH     override the defaults; --out also writes a quick run
 *   --piscina-concurrency=N             piscina's concurrentTasksPerWorker (default: piscina's, 1)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  describeMachine,
  formatRate,
  formatTable,
  median,
  parseFlags,
  positiveInt,
  rotate,
} from './lib/harness.mjs';
import { makeSystems } from './lib/systems.mjs';

/** Two workers: the machines this runs on have two cores. */
const WORKERS = 2;
const FULL = { tasks: 20_000, rounds: 7, warmupRuns: 2 };
// Enough to see every system work end to end in a few seconds, not enough to trust the numbers.
const QUICK = { tasks: 2_000, rounds: 2, warmupRuns: 1 };
const DEFAULT_OUT = fileURLToPath(new URL('results/tiny-tasks.json', import.meta.url));
/** The ratios reported: mpool's two ways of submitting against each peer. */
const RATIOS = [
  ['mpool applyAsync', 'piscina run'],
  ['mpool applyAsync', 'poolifier execute'],
  ['mpool map', 'piscina run'],
  ['mpool map', 'poolifier execute'],
];

const flags = parseFlags(process.argv.slice(2), ['quick', 'only', 'tasks', 'rounds', 'out', 'piscina-concurrency']);
const preset = flags.quick ? QUICK : FULL;
const piscinaConcurrency =
  flags['piscina-concurrency'] === undefined ? undefined : positiveInt(flags, 'piscina-concurrency', 1);
const config = {
  tasks: positiveInt(flags, 'tasks', preset.tasks),
  rounds: positiveInt(flags, 'rounds', preset.rounds),
  warmupRuns: preset.warmupRuns,
  workers: WORKERS,
  piscinaConcurrentTasksPerWorker: piscinaConcurrency ?? 'default',
};
const only = typeof flags.only === 'string' ? flags.only.split(',') : null;
const systems = makeSystems(WORKERS, piscinaConcurrency).filter((s) => only === null || only.some((part) => s.name.includes(part)));
if (systems.length === 0) throw new RangeError(`--only=${flags.only} matches no system`);
// A partial or quick run must not overwrite the full results unless asked to.
const out = typeof flags.out === 'string' ? flags.out : flags.quick || only !== null ? null : DEFAULT_OUT;

const inputs = Array.from({ length: config.tasks }, (_, i) => i);

/** Runs `system` once over all inputs; returns tasks per second, after checking every result. */
async function measure(system) {
  const started = performance.now();
  const results = await system.run(inputs);
  const seconds = (performance.now() - started) / 1000;
  for (let i = 0; i < inputs.length; i++) {
    if (results[i] !== inputs[i] + 1) {
      throw new Error(`${system.name}: result ${i} is ${results[i]}, expected ${inputs[i] + 1}`);
    }
  }
  return inputs.length / seconds;
}

const samples = new Map(systems.map((s) => [s.name, []]));
try {
  for (const system of systems) await system.start();
  for (let w = 0; w < config.warmupRuns; w++) {
    for (const system of systems) await measure(system);
  }
  for (let round = 0; round < config.rounds; round++) {
    for (const system of rotate(systems, round)) samples.get(system.name).push(await measure(system));
    process.stderr.write(`round ${round + 1}/${config.rounds} done\n`);
  }
} finally {
  // Terminate every pool even after a failure, so the process can exit.
  await Promise.allSettled(systems.map((s) => s.stop()));
}

const medians = Object.fromEntries([...samples].map(([name, rates]) => [name, median(rates)]));
const ratios = RATIOS.filter(([a, b]) => a in medians && b in medians).map(([a, b]) => ({
  mpool: a,
  peer: b,
  ratio: medians[a] / medians[b],
}));
const machine = describeMachine();

console.log(
  `tiny tasks: ${config.tasks.toLocaleString('en-US')} tasks, ${WORKERS} thread workers, ` +
    `${config.rounds} rounds; ${machine.node}, ${machine.cpuModel}, ${machine.cores} cores`,
);
console.log(
  formatTable(
    ['system', 'median tasks/s', 'min', 'max'],
    [...samples].map(([name, rates]) => [
      name,
      formatRate(medians[name]),
      formatRate(Math.min(...rates)),
      formatRate(Math.max(...rates)),
    ]),
  ),
);
if (ratios.length > 0) {
  console.log();
  console.log(formatTable(['mpool / peer', 'ratio'], ratios.map((r) => [`${r.mpool} / ${r.peer}`, r.ratio.toFixed(2)])));
}

if (out !== null) {
  const report = {
    benchmark: 'tiny-tasks',
    date: new Date().toISOString(),
    machine,
    config,
    systems: Object.fromEntries(
      [...samples].map(([name, rates]) => [name, { medianTasksPerSecond: medians[name], tasksPerSecond: rates }]),
    ),
    ratios,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwritten to ${out}`);
}
