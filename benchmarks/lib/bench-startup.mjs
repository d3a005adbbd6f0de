/**
 * Benchmark 4, start-up: from constructing a pool of `workers` to the result of its first task
 * (`inc(1)`), a new pool every run; closing it comes after the clock stops. Milliseconds. Beside
 * the pools: the floor (`child_process.fork` of an empty script), tinypool's child processes given
 * the environment, and Python's `Pool` with the 'spawn' start method.
 */
import { median, picked, runInterleaved, since } from './harness.mjs';
import { isolatedEntry } from './isolated.mjs';
import { nodeSystems, startupSystems } from './pools.mjs';
import { PYTHON_STARTUP_SYSTEMS, PYTHON_SYSTEMS, pythonEntry } from './python.mjs';

/** A Node system as an entry of `runInterleaved`, run in a process of its own (lib/node-runner.mjs). */
export function nodeEntry(adapter, { workers }) {
  return {
    ...adapter,
    start() {},
    async measure() {
      const started = performance.now();
      const pool = await adapter.open(workers);
      let ms;
      try {
        const result = await pool.inc(1);
        ms = since(started);
        if (result !== 2) throw new Error(`${adapter.name}: the first result is ${result}`);
      } finally {
        await pool.close();
      }
      return ms;
    },
    stop() {},
  };
}

export async function startup({ rounds, warmupRuns, workers, python, only }) {
  const entries = [
    ...[...nodeSystems(), ...startupSystems()]
      .filter((adapter) => picked(only, adapter.name))
      .map((adapter) => isolatedEntry(adapter, 'startup', { workers })),
    ...(python === null
      ? []
      : [...PYTHON_SYSTEMS, ...PYTHON_STARTUP_SYSTEMS].map((s) => {
          const entry = pythonEntry(python, s, 'startup', { workers });
          const measure = entry.measure;
          entry.measure = async () => (await measure()).ms;
          return entry;
        })),
  ].filter((e) => picked(only, e.name));
  const samples = await runInterleaved(entries, { rounds, warmupRuns, measure: (e) => e.measure(), label: 'start-up: ' });
  const systems = {};
  for (const entry of entries) {
    const ms = samples.get(entry.name);
    systems[entry.name] = { runsOn: entry.runsOn, ms: { median: median(ms), samples: ms } };
  }
  return { config: { workers, rounds, warmupRuns, unit: 'ms' }, systems };
}
