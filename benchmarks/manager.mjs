/**
 * The Manager's cost: one proxied call against one task round trip, on 'thread' and 'spawn'.
 *
 *   proxied call  a task awaits `value.get()` on a `manager.value()` 1,000 times in a loop and
 *                 times the loop itself, in the worker: worker → parent's object → worker.
 *   round trip    the parent applies a no-op task with `applyAsync` and awaits it, 1,000 times one
 *                 after another: parent → worker → parent, through the scheduler.
 *
 * Both in microseconds per call. Flow: every pool (one worker each) is created once and warmed up
 * (two unmeasured runs); then each round runs every system once, starting from a different one
 * each round. The table gives each system's median over the rounds, and per context the ratio
 * of a proxied call to a task round trip.
 *
 *   node manager.mjs                   full run; writes results/manager.json
 *   node manager.mjs --quick           smoke run (100 calls, 2 rounds); writes nothing
 *   --only=NAME[,NAME]                 only the systems whose name contains NAME; writes nothing
 *   --calls=N --rounds=N --out=PATH    override the defaults; --out also writes a quick run
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Manager, Pool, task } from '@mpool/pool';
import {
  describeMachine,
  formatTable,
  loadAverage,
  median,
  parseFlags,
  positiveInt,
  runInterleaved,
} from './lib/harness.mjs';

/** One worker: every call and every task here waits for the one before, so a second would idle. */
const WORKERS = 1;
const CONTEXTS = ['thread', 'spawn'];
const FULL = { calls: 1_000, rounds: 9, warmupRuns: 2 };
// Enough to see every system work end to end in a few seconds, not enough to trust the numbers.
const QUICK = { calls: 100, rounds: 2, warmupRuns: 1 };
const DEFAULT_OUT = fileURLToPath(new URL('results/manager.json', import.meta.url));

const flags = parseFlags(process.argv.slice(2), ['quick', 'only', 'calls', 'rounds', 'out']);
const preset = flags.quick ? QUICK : FULL;
const config = {
  calls: positiveInt(flags, 'calls', preset.calls),
  rounds: positiveInt(flags, 'rounds', preset.rounds),
  warmupRuns: preset.warmupRuns,
  processes: WORKERS,
};
const only = typeof flags.only === 'string' ? flags.only.split(',') : null;
// A partial or quick run must not overwrite the full results unless asked to.
const out = typeof flags.out === 'string' ? flags.out : flags.quick || only !== null ? null : DEFAULT_OUT;

const tasksModule = new URL('tasks/manager-tasks.mjs', import.meta.url);
const timeProxiedGets = task(tasksModule, 'timeProxiedGets');
const noop = task(tasksModule, 'noop');

const manager = new Manager();
const value = manager.value(42);

/** `calls` proxied `value.get()` calls in one task, timed by the worker; µs per call. */
function proxiedCall(context) {
  let pool;
  return {
    name: `${context} proxied call`,
    context,
    kind: 'proxied call',
    start() {
      pool = new Pool({ processes: WORKERS, context });
    },
    run: (calls) => pool.apply(timeProxiedGets, [value, calls]),
    stop: () => pool.terminate(),
  };
}

/** `calls` no-op tasks, each awaited before the next is applied, timed by the parent; µs per task. */
function roundTrip(context) {
  let pool;
  return {
    name: `${context} task round trip`,
    context,
    kind: 'task round trip',
    start() {
      pool = new Pool({ processes: WORKERS, context });
    },
    async run(calls) {
      const started = performance.now();
      for (let i = 0; i < calls; i++) await pool.applyAsync(noop);
      return ((performance.now() - started) * 1000) / calls;
    },
    stop: () => pool.terminate(),
  };
}

const systems = CONTEXTS.flatMap((context) => [proxiedCall(context), roundTrip(context)]).filter(
  (s) => only === null || only.some((part) => s.name.includes(part)),
);
if (systems.length === 0) throw new RangeError(`--only=${flags.only} matches no system`);

const machine = describeMachine();
const load = { start: loadAverage() };
let samples;
try {
  samples = await runInterleaved(systems, {
    rounds: config.rounds,
    warmupRuns: config.warmupRuns,
    measure: (system) => system.run(config.calls),
  });
} finally {
  await manager.close();
}
load.end = loadAverage();

const medians = Object.fromEntries([...samples].map(([name, micros]) => [name, median(micros)]));
/** Per context: what one proxied call costs in task round trips. */
const ratios = CONTEXTS.map((context) => ({
  context,
  proxiedCall: medians[`${context} proxied call`],
  roundTrip: medians[`${context} task round trip`],
}))
  .filter((r) => r.proxiedCall !== undefined && r.roundTrip !== undefined)
  .map((r) => ({ context: r.context, ratio: r.proxiedCall / r.roundTrip }));

/** Times here are tens of microseconds: one decimal. */
const micros = (value) => value.toFixed(1);

console.log(
  `manager: ${config.calls} calls one after another, ${WORKERS} worker, ${config.rounds} rounds; ` +
    `${machine.node}, ${machine.cpuModel}, ${machine.cores} cores; load average ${load.start.join(' ')}`,
);
console.log(
  formatTable(
    ['system', 'median µs/call', 'min', 'max'],
    [...samples].map(([name, values]) => [name, micros(medians[name]), micros(Math.min(...values)), micros(Math.max(...values))]),
  ),
);
if (ratios.length > 0) {
  console.log();
  console.log(formatTable(['context', 'proxied call / task round trip'], ratios.map((r) => [r.context, r.ratio.toFixed(2)])));
}

if (out !== null) {
  const report = {
    benchmark: 'manager',
    date: new Date().toISOString(),
    machine,
    config,
    loadAverage: load,
    systems: Object.fromEntries(
      [...samples].map(([name, values]) => {
        const system = systems.find((s) => s.name === name);
        return [name, { context: system.context, kind: system.kind, medianMicrosPerCall: medians[name], microsPerCall: values }];
      }),
    ),
    ratios,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwritten to ${out}`);
}
