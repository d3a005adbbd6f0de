/**
 * Benchmark 1, tiny tasks: the pool's own cost per task. `inc` (a number in, that number plus
 * one out) `tasks` times, submitted one by one (all of them, then all awaited), and through the
 * system's map where it has one, with the same chunksize everywhere: ceil(tasks / (workers × 4)),
 * Python's own default for Pool.map. Rates in tasks/s; every result is checked. All systems'
 * one-by-one rounds come first, then all their map rounds. The warm-up runs (unmeasured) send a
 * tenth of the tasks one by one (the slowest systems take seconds a run) and map all of them.
 */
import { incRate as rate, median, picked, runPhases } from './harness.mjs';
import { isolatedEntry } from './isolated.mjs';
import { nodeSystems } from './pools.mjs';
import { PYTHON_SYSTEMS, pythonEntry } from './python.mjs';


/** A warm-up run sends this fraction of a measured run's tasks: the code is warm long before the end. */
const WARMUP_FRACTION = 10;
/**
 * ...and maps the whole input this many times: maps take milliseconds, and a JIT compiler needs
 * dozens of calls of a path before it runs at full speed (Python's pools.py does the same).
 */
const WARMUP_MAPS = 10;

/**
 * A Node system as an entry of `runPhases`: one pool; a run measures one way of submitting. It
 * runs in a process of its own (lib/node-runner.mjs), so `config` is plain data.
 */
export function nodeEntry(adapter, { workers, tasks, chunksize }) {
  const inputs = Array.from({ length: tasks }, (_, i) => i);
  let pool;
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
    async measure(kind) {
      if (kind === 'oneByOne') return oneByOne(inputs);
      if (kind !== 'map') throw new Error(`tiny: no measurement ${kind}`);
      if (pool.incMap === undefined) return null;
      const afterIdle = await map(inputs);
      const backToBack = [];
      for (let i = 0; i < BACK_TO_BACK_MAPS; i++) backToBack.push(await map(inputs));
      return { afterIdle, backToBack: median(backToBack) };
    },
    async warmup() {
      const part = inputs.slice(0, Math.max(1, Math.floor(inputs.length / WARMUP_FRACTION)));
      await oneByOne(part);
      if (pool.incMap !== undefined) for (let i = 0; i < WARMUP_MAPS; i++) await map(inputs);
    },
    stop: () => pool?.close(),
  };
}

/**
 * A map round takes milliseconds where a one-by-one round takes up to seconds: the map phase has
 * this many times the rounds, which a measurement of a few milliseconds needs on a busy machine.
 */
const MAP_ROUNDS_FACTOR = 2;
/**
 * Each map round maps once after the pool sat idle while the other systems ran (`map`), then this
 * many times back to back (`mapBackToBack`, their median): a pool woken from idle and a pool in
 * steady use are not the same speed, least of all on processes. Ten, so that the median is not
 * just the second map after the idle one, as it was with 3.
 */
const BACK_TO_BACK_MAPS = 10;

export async function tinyTasks({ tasks, rounds, warmupRuns, workers, python, only }) {
  const mapRounds = rounds * MAP_ROUNDS_FACTOR;
  const chunksize = Math.ceil(tasks / (workers * 4));
  const entries = [
    ...nodeSystems()
      .filter((adapter) => picked(only, adapter.name))
      .map((adapter) => isolatedEntry(adapter, 'tiny', { workers, tasks, chunksize })),
    ...(python === null ? [] : PYTHON_SYSTEMS.map((s) => pythonEntry(python, s, 'tiny', { tasks, workers, chunksize, backToBack: BACK_TO_BACK_MAPS }))),
  ].filter((e) => picked(only, e.name));
  // Every system's one-by-one rounds, then every system's map rounds: a system's map is never
  // measured right after seconds of idling while the slowest systems submitted one by one.
  const samples = await runPhases(entries, {
    phases: ['oneByOne', 'map'],
    rounds: { oneByOne: rounds, map: mapRounds },
    warmupRuns,
    measure: (e, kind) => e.measure(kind),
    warmup: (e) => e.warmup(),
    label: 'tiny tasks: ',
  });
  const systems = {};
  for (const entry of entries) {
    const oneByOne = samples.get(entry.name).oneByOne;
    const maps = samples.get(entry.name).map;
    const map = maps.every((r) => r !== null) ? maps.map((r) => r.afterIdle) : null;
    const warm = map === null ? null : maps.map((r) => r.backToBack);
    systems[entry.name] = {
      runsOn: entry.runsOn,
      oneByOne: { median: median(oneByOne), samples: oneByOne },
      map: map === null ? null : { median: median(map), samples: map },
      mapBackToBack: warm === null ? null : { median: median(warm), samples: warm },
    };
  }
  return { config: { tasks, chunksize, workers, rounds, mapRounds, backToBackMaps: BACK_TO_BACK_MAPS, warmupRuns, unit: 'tasks/s' }, systems };
}
