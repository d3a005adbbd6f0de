/**
 * Benchmark 3, payloads: `tasks` Float64Arrays of 1 MiB each, all submitted, then awaited; the
 * task (tasks/payload-task.mjs) returns the array it was given. Throughput in MiB/s, counting
 * the bytes both ways (2 MiB a task). Each run sends the arrays copied and, where the system can
 * transfer buffers, once more with them transferred; each sends them again, what came back each
 * time (a transferred buffer is gone from the sender), until `minRunMs` have passed: one pass of
 * moved buffers takes a millisecond or so on threads, too short to time on a shared machine.
 * Arrays are made before the clock starts, fresh for each run. Worker threads answering
 * postMessage by hand (payloadFloors) run beside the pools: the floor no pool can beat.
 */
import { median, picked, runInterleaved, since } from './harness.mjs';
import { isolatedEntry } from './isolated.mjs';
import { systemsFor } from './pools.mjs';
import { PYTHON_SYSTEMS, pythonEntry } from './python.mjs';

const MIB = 2 ** 20;
const DOUBLES = MIB / Float64Array.BYTES_PER_ELEMENT;
function arrays(tasks) {
  return Array.from({ length: tasks }, (_, i) => {
    const array = new Float64Array(DOUBLES);
    array[0] = i;
    return array;
  });
}

/**
 * MiB/s both ways: `tasks` arrays through `send`, all at once, then what came back, and so on,
 * until `minRunMs` have passed (one pass at least).
 */
async function throughput(name, tasks, minRunMs, send) {
  let sent = arrays(tasks);
  let passes = 0;
  const started = performance.now();
  do {
    sent = await Promise.all(sent.map(send));
    passes++;
  } while (since(started) < minRunMs);
  const ms = since(started);
  sent.forEach((array, i) => {
    if (!(array instanceof Float64Array) || array.length !== DOUBLES || array[0] !== i + passes) {
      throw new Error(`${name}: payload ${i} came back wrong`);
    }
  });
  return (2 * tasks * passes * 1000) / ms;
}

/** A Node system as an entry of `runInterleaved`, run in a process of its own (lib/node-runner.mjs). */
export function nodeEntry(adapter, { workers, tasks, minRunMs }) {
  let pool;
  return {
    ...adapter,
    async start() {
      pool = await adapter.open(workers);
    },
    async measure() {
      const copied = await throughput(adapter.name, tasks, minRunMs, (a) => pool.echo(a));
      const transferred = pool.echoMove === undefined ? null : await throughput(adapter.name, tasks, minRunMs, (a) => pool.echoMove(a));
      return { copied, transferred };
    },
    stop: () => pool?.close(),
  };
}

export async function payloads({ tasks, rounds, warmupRuns, minRunMs, workers, python, only }) {
  const entries = [
    ...systemsFor('payloads')
      .filter((adapter) => picked(only, adapter.name))
      .map((adapter) => isolatedEntry(adapter, 'payloads', { workers, tasks, minRunMs })),
    ...(python === null
      ? []
      : PYTHON_SYSTEMS.map((s) => {
          const entry = pythonEntry(python, s, 'payloads', { tasks, doubles: DOUBLES, workers });
          const measure = entry.measure;
          entry.measure = async () => ({ copied: (await measure()).copiedMBps, transferred: null });
          return entry;
        })),
  ].filter((e) => picked(only, e.name));
  const samples = await runInterleaved(entries, { rounds, warmupRuns, measure: (e) => e.measure(), label: 'payloads: ' });
  const systems = {};
  for (const entry of entries) {
    const runs = samples.get(entry.name);
    const copied = runs.map((r) => r.copied);
    const transferred = runs[0].transferred === null ? null : runs.map((r) => r.transferred);
    systems[entry.name] = {
      runsOn: entry.runsOn,
      transfer: entry.transfer,
      copied: { median: median(copied), samples: copied },
      transferred: transferred === null ? null : { median: median(transferred), samples: transferred },
    };
  }
  return { config: { tasks, minRunMs, bytesEachWay: MIB, workers, rounds, warmupRuns, unit: 'MiB/s, both ways counted' }, systems };
}
