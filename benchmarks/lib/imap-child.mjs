/**
 * One imap run of benchmark 5, alone in its own Node process so that the memory it reports is
 * its own: `node imap-child.mjs '{"method","context","items","chunksize","sampleEvery","workers"}'`.
 * Iterates `pool[method](inc, naturals(items), chunksize)` and samples process.memoryUsage()
 * every `sampleEvery` results; prints one JSON line with the memory at the start, the peaks and
 * every sample (MiB).
 */
import { Pool, task } from '@mpool/pool';

const MIB = 2 ** 20;
const round = (mib) => Math.round(mib * 10) / 10;
const { method, context, items, chunksize, sampleEvery, workers } = JSON.parse(process.argv[2]);
const inc = task(new URL('../tasks/mpool-tasks.mjs', import.meta.url), 'inc');

/** 0, 1, …, n - 1, made one at a time: the input is never held whole. */
function* naturals(n) {
  for (let i = 0; i < n; i++) yield i;
}

const pool = new Pool({ processes: workers, context });
try {
  // The workers are up before the baseline is read, as Python's are once Pool() returns.
  await pool.apply(inc, [0]);
  const start = process.memoryUsage();
  let peakRss = start.rss;
  let peakHeapUsed = start.heapUsed;
  const rssSamples = [];
  const heapUsedSamples = [];
  let count = 0;
  let total = 0;
  const started = performance.now();
  for await (const y of pool[method](inc, naturals(items), chunksize)) {
    count++;
    total += y;
    if (method === 'imap' && y !== count) throw new Error(`imap: result ${count - 1} is ${y}`);
    if (count % sampleEvery === 0) {
      const now = process.memoryUsage();
      peakRss = Math.max(peakRss, now.rss);
      peakHeapUsed = Math.max(peakHeapUsed, now.heapUsed);
      rssSamples.push(round(now.rss / MIB));
      heapUsedSamples.push(round(now.heapUsed / MIB));
    }
  }
  const seconds = (performance.now() - started) / 1000;
  if (count !== items || total !== (items * (items + 1)) / 2) throw new Error(`${method}: the results do not add up`);
  const end = process.memoryUsage();
  console.log(
    JSON.stringify({
      startRssMB: start.rss / MIB,
      peakRssMB: Math.max(peakRss, end.rss) / MIB,
      startHeapUsedMB: start.heapUsed / MIB,
      peakHeapUsedMB: Math.max(peakHeapUsed, end.heapUsed) / MIB,
      itemsPerSecond: items / seconds,
      rssSamplesMB: rssSamples,
      heapUsedSamplesMB: heapUsedSamples,
    }),
  );
} finally {
  await pool.terminate();
}
