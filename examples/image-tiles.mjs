#!/usr/bin/env node
/**
 * Big data without copies: a box blur over a big RGBA image (4096 × 4096, 64 MiB, painted here),
 * split into strips of rows (tiles) that workers blur in parallel, two ways:
 *
 *   thread   the image and its output are SharedArrayBuffers: every worker thread sees the same
 *            memory, each blurs its strips straight into the shared output, and nothing is copied
 *   spawn    worker processes share no memory: each strip (with the rows around it the blur reads)
 *            is cut out and sent with transfer() through imapUnordered, and each blurred strip
 *            comes back the same way, copied once each way instead of serialized, and is put in
 *            place in the output as it comes, while the workers blur the next
 *
 * Each is timed on 1 worker and on N, against the same strips blurred one after another on this
 * thread, and every way must give the same pixels. With `--rounds`, each way runs that many times,
 * in turns, and the medians are shown; `--json` prints them as one line of JSON instead
 * (benchmarks/image.mjs reads it).
 *
 *   node examples/image-tiles.mjs [--size 4096] [--radius 2] [--tiles 32] [--workers N]
 *                                 [--contexts thread,spawn] [--rounds 1] [--json]
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Pool, task, transfer } from '@mpool/pool';
import { blurRows, paint, RGBA } from './image-tiles-task.mjs';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '4096' },
    radius: { type: 'string', default: '2' },
    tiles: { type: 'string', default: '32' },
    workers: { type: 'string', default: String(availableParallelism()) },
    contexts: { type: 'string', default: 'thread,spawn' },
    rounds: { type: 'string', default: '1' },
    json: { type: 'boolean', default: false },
  },
});
const size = Number(values.size);
const radius = Number(values.radius);
const tiles = Number(values.tiles);
const workers = Number(values.workers);
const contexts = values.contexts.split(',');
const rounds = Number(values.rounds);

const tasks = new URL('./image-tiles-task.mjs', import.meta.url);
const blurShared = task(tasks, 'blurShared');
const blurTile = task(tasks, 'blurTile');
const workerTag = task(tasks, 'workerTag');

/** An image painted in shared memory, and its strips as [first row, end row), as even as the rows allow. */
function picture(side, count) {
  const image = new Uint8ClampedArray(new SharedArrayBuffer(side * side * RGBA));
  paint(image, side, side);
  const strips = Array.from({ length: count }, (_, i) => [Math.floor((i * side) / count), Math.floor(((i + 1) * side) / count)]);
  return { image, side, rowBytes: side * RGBA, strips };
}

/** A short digest of an image's bytes, to tell whether two blurs gave the same pixels. */
function digest(bytes) {
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  let hash = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) hash = Math.imul(hash ^ words[i], 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** The strips blurred one after another on this thread: the time to beat. */
function onThisThread({ image, side, rowBytes, strips }) {
  const output = new Uint8ClampedArray(side * rowBytes);
  const started = performance.now();
  for (const [y0, y1] of strips) blurRows(image, 0, output, y0, side, side, y0, y1, radius);
  return { ms: performance.now() - started, digest: digest(output) };
}

/** Threads: every strip blurred in place, in a shared output. */
async function withSharedMemory(pool, { image, side, rowBytes, strips }) {
  const output = new Uint8ClampedArray(new SharedArrayBuffer(side * rowBytes));
  const started = performance.now();
  await pool.starmap(blurShared, strips.map(([y0, y1]) => [image.buffer, output.buffer, side, side, y0, y1, radius]), 1);
  return { ms: performance.now() - started, digest: digest(output) };
}

/**
 * Processes: every strip, with its halo, cut out of the image and moved to a worker, and its
 * blurred rows moved back. imapUnordered cuts the next strips while workers blur, and each
 * strip's rows are put in place as they come, while others are still blurred.
 */
async function withTransfer(pool, { image, side, rowBytes, strips }) {
  const output = new Uint8ClampedArray(side * rowBytes);
  const started = performance.now();
  function* tiles() {
    for (const [y0, y1] of strips) {
      const top = Math.max(0, y0 - radius);
      const strip = image.slice(top * rowBytes, Math.min(side, y1 + radius) * rowBytes);
      yield transfer({ strip, top, width: side, height: side, y0, y1, radius }, [strip.buffer]);
    }
  }
  for await (const { y0, rows } of pool.imapUnordered(blurTile, tiles())) output.set(rows, y0 * rowBytes);
  return { ms: performance.now() - started, digest: digest(output) };
}

/** A small picture, to blur before the clock starts: every worker started, its code compiled. */
const warmUpPicture = picture(64, 8);

/** A pool of `processes` workers in `context`, started and warmed up: the blur it runs, and its end. */
async function openPool(context, processes) {
  const blur = context === 'thread' || context === 'auto' ? withSharedMemory : withTransfer;
  const pool = new Pool({ processes, context });
  const seen = new Set();
  while (seen.size < processes) for (const tag of await pool.map(workerTag, Array(processes * 4).fill(0), 1)) seen.add(tag);
  await blur(pool, warmUpPicture);
  return { name: `${context} ${processes}`, context, processes, how: blur === withSharedMemory ? 'SharedArrayBuffer' : 'transfer()', run: (picture) => blur(pool, picture), close: () => pool.terminate() };
}

const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];

const big = picture(size, tiles);
onThisThread(warmUpPicture);
const pools = [];
try {
  for (const context of contexts) pools.push(await openPool(context, 1), await openPool(context, workers));
  // Each round runs every way once, starting from a different one each round.
  const ways = [{ name: 'one thread', run: async (picture) => onThisThread(picture) }, ...pools];
  const times = new Map(ways.map((way) => [way.name, []]));
  const digests = new Set();
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < ways.length; i++) {
      const way = ways[(i + round) % ways.length];
      const { ms, digest: seen } = await way.run(big);
      times.get(way.name).push(ms);
      digests.add(seen);
    }
  }
  const msOf = (name) => median(times.get(name));
  /** The median over the rounds of each round's time of `slow` over its time of `fast`. */
  const speedUp = (slow, fast) => median(times.get(slow).map((ms, round) => ms / times.get(fast)[round]));
  const report = {
    size, radius, tiles, workers, rounds,
    oneThreadMs: msOf('one thread'),
    contexts: Object.fromEntries(contexts.map((context) => [context, {
      oneWorkerMs: msOf(`${context} 1`),
      workersMs: msOf(`${context} ${workers}`),
      speedUpOverOneWorker: speedUp(`${context} 1`, `${context} ${workers}`),
      speedUpOverOneThread: speedUp('one thread', `${context} ${workers}`),
    }])),
    samePixels: digests.size === 1,
  };
  if (values.json) {
    console.log(JSON.stringify(report));
  } else {
    const mib = (size * big.rowBytes) / 2 ** 20;
    const medians = rounds > 1 ? `, medians of ${rounds} rounds` : '';
    console.log(`box blur, radius ${radius}, of a ${size}×${size} RGBA image (${mib.toFixed(mib < 10 ? 1 : 0)} MiB) in ${tiles} strips${medians}`);
    console.log(`  one thread, no pool                      ${report.oneThreadMs.toFixed(0).padStart(6)} ms`);
    for (const way of pools) {
      const plural = way.processes === 1 ? ' ' : 's';
      console.log(`  ${way.context.padEnd(7)} ${String(way.processes).padStart(2)} worker${plural}, ${way.how.padEnd(17)} ${msOf(way.name).toFixed(0).padStart(6)} ms`);
      if (way.processes === workers && workers !== 1) {
        const { speedUpOverOneWorker, speedUpOverOneThread } = report.contexts[way.context];
        console.log(`  ${way.context.padEnd(7)} speed-up with ${workers} workers: ${speedUpOverOneWorker.toFixed(2)}× over 1 worker, ${speedUpOverOneThread.toFixed(2)}× over one thread`);
      }
    }
    console.log(`same pixels every way: ${report.samePixels}`);
  }
} finally {
  await Promise.all(pools.map((way) => way.close()));
}
