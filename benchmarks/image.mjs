/**
 * Big data without copies, timed: the image example (examples/image-tiles.mjs), a box blur of a
 * 4096 × 4096 RGBA image (64 MiB) in 32 strips, on one thread, and on pools of 1 and 2 workers:
 * 'thread' over one SharedArrayBuffer (each worker blurs its strips in place in a shared output),
 * 'spawn' with transfer() (each strip moved to a worker process and its blurred rows moved back).
 * The example runs every way in turns, round after round, and reports the medians; the speed-ups
 * are the medians of each round's ratios. All of it in one process of the example's own.
 *
 *   node image.mjs                 full run (7 rounds); writes results/image.json
 *   node image.mjs --quick         smoke run (256 × 256, 1 round); writes nothing
 *   --rounds=N --out DIR           override the rounds; --out also writes a quick run, into DIR
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMachine, formatTable, loadAverage, parseFlags, positiveInt } from './lib/harness.mjs';

/** Two workers: the machines this runs on have two cores. */
const WORKERS = 2;
const CONTEXTS = ['thread', 'spawn'];
const FULL = { size: 4096, tiles: 32, radius: 2, rounds: 7 };
// Enough to see every way run end to end in a second or two, not enough to trust the numbers.
const QUICK = { size: 256, tiles: 8, radius: 2, rounds: 1 };
const EXAMPLE = fileURLToPath(new URL('../examples/image-tiles.mjs', import.meta.url));
const DEFAULT_OUT = fileURLToPath(new URL('results/', import.meta.url));

const flags = parseFlags(process.argv.slice(2), ['quick', 'rounds', 'out'], { valued: ['rounds', 'out'] });
const preset = flags.quick ? QUICK : FULL;
const config = { ...preset, rounds: positiveInt(flags, 'rounds', preset.rounds), workers: WORKERS };
// A quick run must not overwrite the full results unless asked to.
const outDir = typeof flags.out === 'string' ? flags.out : flags.quick ? null : DEFAULT_OUT;

const machine = describeMachine();
const load = { start: loadAverage() };
const output = execFileSync(
  process.execPath,
  [EXAMPLE, '--size', String(config.size), '--tiles', String(config.tiles), '--radius', String(config.radius), '--workers', String(WORKERS), '--contexts', CONTEXTS.join(','), '--rounds', String(config.rounds), '--json'],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
);
load.end = loadAverage();
const result = JSON.parse(output.trim().split('\n').at(-1));
if (!result.samePixels) throw new Error('the image example gave different pixels on different ways: its timings mean nothing');

const ms = (value) => value.toFixed(0);
console.log(
  `image: box blur, radius ${config.radius}, of a ${config.size}×${config.size} RGBA image in ${config.tiles} strips, ` +
    `${config.rounds} rounds; ${machine.node}, ${machine.cpuModel}, ${machine.cores} cores; load average ${load.start.join(' ')}`,
);
console.log(
  formatTable(
    ['way', 'one thread, ms', '1 worker, ms', `${WORKERS} workers, ms`, `speed-up 1 → ${WORKERS} workers`, 'over one thread'],
    CONTEXTS.map((context) => {
      const c = result.contexts[context];
      const how = context === 'thread' ? 'thread, SharedArrayBuffer' : `${context}, transfer()`;
      return [how, ms(result.oneThreadMs), ms(c.oneWorkerMs), ms(c.workersMs), `${c.speedUpOverOneWorker.toFixed(2)}×`, `${c.speedUpOverOneThread.toFixed(2)}×`];
    }),
  ),
);

if (outDir !== null) {
  const report = { benchmark: 'image', date: new Date().toISOString(), preset: flags.quick ? 'quick' : 'full', machine, config, loadAverage: load, result };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'image.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwritten to ${join(outDir, 'image.json')}`);
}
