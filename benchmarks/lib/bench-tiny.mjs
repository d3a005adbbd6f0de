/**
 * Benchmark 1, tiny tasks: the pool's own cost per task. `inc` (a number in, that number plus
 * one out) `tasks` times, submitted one by one (all of them, then all awaited), and through the
 * system's map where it has one, with the same chunksize everywhere: ceil(tasks / (workers × 4)),
 * Python's own default for Pool.map. Rates in tasks/s; every result is checked. The warm-up runs
 * (unmeasured) send a tenth of the tasks: the slowest systems take seconds a run.
 */
import { median, picked, runInterleaved, since } from './harness.mjs';
import { nodeSystems } from './pools.mjs';
import { PYTHON_SYSTEMS, pythonEntry } from './python.mjs';

/** Runs `call`, checks it gave every input plus one, and returns tasks per second. */
async function rate(name, inputs, call) {
  const started = performance.now();
  const results = await call();
  const ms = since(started);
  for (let i = 0; i < inputs.length; i++) {
    if (results[i] !== inputs[i] + 1) throw new Error(`${name}: result ${i} is ${results[i]}, expected ${inputs[i] + 1}`);
  }
  return (inputs.length * 1000) / ms;
}

/** A warm-up run sends this fraction of a measured run's tasks: the code is warm long before the end. */
const WARMUP_FRACTION = 10;

/** A Node system as an entry of `runInterleaved`: one pool, both ways of submitting per run. */
function nodeEntry(adapter, { workers, inputs, chunksize }) {
  let pool;
  let runs = 0;
  const oneByOne = (xs) =>
    rate(adapter.name, xs, () => {
      const pending = new Array(xs.length);
      for (let i = 0; i < xs.length; i++) pending[i] = pool.inc(xs[i]);
      return Promise.all(pending);
    });
  const map = (xs) => rate(adapter.name, xs, () => pool.incMap(xs, chunksize));
  return {
    ...adapter,
    async start() {
      pool = await adapter.open(workers);
    },
    async measure() {
      // Alternate which goes first, so neither always follows the other's garbage.
      runs++;
      if (pool.incMap === undefined) return { oneByOne: await oneByOne(inputs), map: null };
      if (runs % 2 === 0) {
        const one = await oneByOne(inputs);
        return { oneByOne: one, map: await map(inputs) };
      }
      const mapped = await map(inputs);
      return { oneByOne: await oneByOne(inputs), map: mapped };
    },
    async warmup() {
      const part = inputs.slice(0, Math.max(1, Math.floor(inputs.length / WARMUP_FRACTION)));
      await oneByOne(part);
      if (pool.incMap !== undefined) await map(part);
    },
    stop: () => pool?.close(),
  };
}

export async function tinyTasks({ tasks, rounds, warmupRuns, workers, python, only }) {
  const inputs = Array.from({ length: tasks }, (_, i) => i);
  const chunksize = Math.ceil(tasks / (workers * 4));
  const entries = [
    ...nodeSystems().map((adapter) => nodeEntry(adapter, { workers, inputs, chunksize })),
    ...(python === null ? [] : PYTHON_SYSTEMS.map((s) => pythonEntry(python, s, 'tiny', { tasks, workers, chunksize }))),
  ].filter((e) => picked(only, e.name));
  const samples = await runInterleaved(entries, {
    rounds,
    warmupRuns,
    measure: (e) => e.measure(),
    warmup: (e) => e.warmup(),
    label: 'tiny tasks: ',
  });
  const systems = {};
  for (const entry of entries) {
    const runs = samples.get(entry.name);
    const oneByOne = runs.map((r) => r.oneByOne);
    const map = runs.every((r) => r.map !== null) ? runs.map((r) => r.map) : null;
    systems[entry.name] = {
      runsOn: entry.runsOn,
      oneByOne: { median: median(oneByOne), samples: oneByOne },
      map: map === null ? null : { median: median(map), samples: map },
    };
  }
  return { config: { tasks, chunksize, workers, rounds, warmupRuns, unit: 'tasks/s' }, systems };
}
