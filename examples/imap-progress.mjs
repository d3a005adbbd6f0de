#!/usr/bin/env node
/**
 * A long `imap`: counts the primes below N, one task per range of numbers, with a progress bar.
 * The ranges come from a generator that `imap` pulls lazily, a bounded window ahead of the
 * results, so memory stays flat however large N is; the results come back in input order.
 * Then the same count with `map`, which gives every result at once at the end: its `onProgress`
 * option drives the bar meanwhile.
 *
 *   node examples/imap-progress.mjs [--below 1000000000] [--range 100000] [--chunksize 4] [--workers N] [--context auto]
 *
 * On a terminal it draws a bar (cli-progress); when stdout is not one (a pipe, CI) it prints a
 * plain line every 10% instead.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { Pool, task } from '@mpool/pool';

const { values } = parseArgs({
  options: {
    below: { type: 'string', default: '1000000000' },
    range: { type: 'string', default: '100000' },
    chunksize: { type: 'string', default: '4' },
    workers: { type: 'string', default: String(availableParallelism()) },
    context: { type: 'string', default: 'auto' },
  },
});
const below = Number(values.below);
const rangeSize = Number(values.range);
const chunksize = Number(values.chunksize);
const workers = Number(values.workers);

/** The ranges [from, to) covering 0..below, made one at a time as imap asks for them. */
function* ranges() {
  for (let from = 0; from < below; from += rangeSize) yield [from, Math.min(from + rangeSize, below)];
}
const total = Math.ceil(below / rangeSize);

const fmt = (n) => n.toLocaleString('en');
const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(1).padStart(6)} MB`;

/**
 * Shows how far a loop has got: a bar on a terminal, a line per tenth elsewhere. `update(done,
 * detail)` takes the ranges done and a few words for the end of the line.
 */
function makeProgress() {
  if (process.stdout.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: '  {bar} {percentage}% | {value}/{total} ranges | {detail} | heap {heap}',
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { detail: '', heap: mb(process.memoryUsage().heapUsed) });
    return {
      update: (done, detail) => bar.update(done, { detail, heap: mb(process.memoryUsage().heapUsed) }),
      stop: () => bar.stop(),
    };
  }
  let nextTenth = 1;
  return {
    update: (done, detail) => {
      if (done * 10 < nextTenth * total) return;
      const tenths = Math.floor((done * 10) / total);
      console.log(`  ${String(tenths * 10).padStart(3)}%  ${fmt(done)}/${fmt(total)} ranges, ${detail}`);
      while (done * 10 >= nextTenth * total) nextTenth += 1;
    },
    stop: () => {},
  };
}

const countPrimes = task(new URL('./imap-progress-task.mjs', import.meta.url), 'countPrimes');

// Memory is sampled at the first result (the workers are up by then; threads count in this
// process's rss) and at each quarter: with a lazy input and a bounded window, it stays level.
const samples = [];
const sample = (label) => {
  const { rss, heapUsed } = process.memoryUsage();
  samples.push({ label, rss, heapUsed });
};

const pool = new Pool({ processes: workers, context: values.context });
try {
  console.log(
    `counting the primes below ${fmt(below)} in ${fmt(total)} ranges of ${fmt(rangeSize)}` +
      ` (imap, chunksize ${chunksize}, ${pool.processes} workers, ${pool.context})`,
  );
  const started = performance.now();
  const progress = makeProgress();
  let done = 0;
  let primes = 0;
  let outOfOrder = 0;
  let nextQuarter = 1;
  for await (const { from, count } of pool.imap(countPrimes, ranges(), chunksize)) {
    // imap yields in input order: the nth result is the nth range's.
    if (from !== done * rangeSize) outOfOrder += 1;
    done += 1;
    primes += count;
    progress.update(done, `${fmt(primes)} primes so far`);
    if (done === 1) sample('first');
    while (done * 4 >= nextQuarter * total) {
      sample(`${nextQuarter * 25}%`);
      nextQuarter += 1;
    }
  }
  progress.stop();
  const seconds = (performance.now() - started) / 1000;

  console.log(`primes below ${fmt(below)}: ${fmt(primes)}  (${seconds.toFixed(2)} s, ${fmt(Math.round(done / seconds))} ranges/s)`);
  console.log(
    outOfOrder === 0
      ? `results in input order: all ${fmt(done)}`
      : `results in input order: NO, ${fmt(outOfOrder)} of ${fmt(done)} came out of place`,
  );
  console.log('memory of this process as the results streamed in:');
  for (const { label, rss, heapUsed } of samples) {
    console.log(`  ${label.padStart(5)}  rss ${mb(rss)}  heapUsed ${mb(heapUsed)}`);
  }

  // map holds its results until the end; onProgress tells how far it has got meanwhile (as its
  // chunks complete, at most every 10 ms, and always (total, total) last, before map resolves).
  console.log(`the same with map (chunksize ${chunksize}), its onProgress driving the bar:`);
  const mapStarted = performance.now();
  const mapProgress = makeProgress();
  let progressCalls = 0;
  const counts = await pool.map(countPrimes, ranges(), {
    chunksize,
    onProgress: (rangesDone, rangesTotal) => {
      progressCalls += 1;
      mapProgress.update(rangesDone, `${fmt(rangesTotal - rangesDone)} to go`);
    },
  });
  mapProgress.stop();
  const mapped = counts.reduce((sum, { count }) => sum + count, 0);
  const mapSeconds = (performance.now() - mapStarted) / 1000;
  console.log(`primes below ${fmt(below)} by map: ${fmt(mapped)}  (${mapSeconds.toFixed(2)} s, onProgress called ${fmt(progressCalls)} times for ${fmt(counts.length)} ranges)`);
} finally {
  await pool.terminate();
}
