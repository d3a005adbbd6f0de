/**
 * Benchmark 2, the pi workload: real work. The Leibniz series (tasks/pi-task.mjs) split into
 * `chunks` tasks, all submitted, then added up, on a pool of 1 worker and on one of `workers`.
 * The speed-up is the 1-worker time over the `workers` time, per round (both pools run back to
 * back, so a load that comes and goes hits both alike), and the median of those is reported
 * against the ideal, `workers`×. Python's loop is some 50 times slower than Node's, so it sums a
 * shorter series (`pythonTerms`) taking about as long: compare speed-ups, not times.
 */
import { median, picked, runInterleaved, since } from './harness.mjs';
import { isolatedEntry } from './isolated.mjs';
import { nodeSystems } from './pools.mjs';
import { PYTHON_SYSTEMS, pythonEntry } from './python.mjs';

/** The ranges [first, last] of 1..terms cut into `chunks` pieces. */
function ranges(terms, chunks) {
  const size = Math.ceil(terms / chunks);
  const result = [];
  for (let first = 1; first <= terms; first += size) result.push([first, Math.min(first + size - 1, terms)]);
  return result;
}

/** A Node system as an entry of `runInterleaved`, run in a process of its own (lib/node-runner.mjs). */
export function nodeEntry(adapter, { workers, terms, chunks }) {
  const pieces = ranges(terms, chunks);
  // The series' remainder after n terms is below 1/n; the rounding of the sum is far smaller.
  const tolerance = 4 / terms;
  let one;
  let many;
  let runs = 0;
  const timed = async (pool) => {
    const started = performance.now();
    let pi = 0;
    for (const part of await Promise.all(pieces.map(([first, last]) => pool.pi(first, last)))) pi += part;
    const ms = since(started);
    if (!(Math.abs(pi - Math.PI) <= tolerance)) throw new Error(`${adapter.name}: pi came out as ${pi}`);
    return ms;
  };
  return {
    ...adapter,
    async start() {
      one = await adapter.open(1);
      many = await adapter.open(workers);
    },
    async measure() {
      runs++;
      if (runs % 2 === 0) {
        const oneMs = await timed(one);
        return { oneMs, manyMs: await timed(many) };
      }
      const manyMs = await timed(many);
      return { oneMs: await timed(one), manyMs };
    },
    stop: () => Promise.all([one?.close(), many?.close()]),
  };
}

export async function piSpeedup({ terms, pythonTerms, chunks, rounds, warmupRuns, workers, python, only }) {
  const entries = [
    ...nodeSystems()
      .filter((adapter) => picked(only, adapter.name))
      .map((adapter) => isolatedEntry(adapter, 'pi', { workers, terms, chunks })),
    ...(python === null
      ? []
      : PYTHON_SYSTEMS.map((s) => {
          const entry = pythonEntry(python, s, 'pi', { terms: pythonTerms, chunks, workers });
          const measure = entry.measure;
          entry.measure = async () => {
            const r = await measure();
            return { oneMs: r.oneSeconds * 1000, manyMs: r.manySeconds * 1000 };
          };
          return entry;
        })),
  ].filter((e) => picked(only, e.name));
  const samples = await runInterleaved(entries, { rounds, warmupRuns, measure: (e) => e.measure(), label: 'pi: ' });
  const systems = {};
  for (const entry of entries) {
    const runs = samples.get(entry.name);
    const speedups = runs.map((r) => r.oneMs / r.manyMs);
    const speedup = median(speedups);
    systems[entry.name] = {
      runsOn: entry.runsOn,
      terms: entry.library === 'python' ? pythonTerms : terms,
      oneWorkerMs: { median: median(runs.map((r) => r.oneMs)), samples: runs.map((r) => r.oneMs) },
      workersMs: { median: median(runs.map((r) => r.manyMs)), samples: runs.map((r) => r.manyMs) },
      speedup: { median: speedup, samples: speedups },
      ofIdeal: speedup / workers,
    };
  }
  return { config: { terms, pythonTerms, chunks, workers, rounds, warmupRuns, ideal: workers }, systems };
}
