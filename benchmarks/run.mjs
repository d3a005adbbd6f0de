/**
 * The benchmark suite: mpool against piscina, tinypool, workerpool, poolifier and Python's
 * process pools, every pool with 2 workers, in five benchmarks:
 *
 *   1 tiny      20,000 no-op tasks one by one and through map: tasks/s
 *   2 pi        the Leibniz series on 1 worker and on 2: the speed-up against the ideal 2×
 *   3 payloads  1 MiB Float64Arrays each way, copied and (where possible) transferred: MiB/s
 *   4 startup   a new pool to its first result: ms
 *   5 imap      10 million items through imap, chunksize 1,000: peak memory (last, the longest)
 *
 * Flow of benchmarks 1-4 (lib/harness.mjs runInterleaved): every system's pools are opened once,
 * warmed up, then each round runs every system once, starting from a different one each round,
 * Python's pools included (python/pools.py, driven a run at a time); medians over the rounds.
 * Benchmark 5 runs each system once in a fresh process. Then the report: results/latest.json
 * (everything, every sample), latest.md (the tables) and latest.svg (the chart).
 *
 *   node run.mjs                  full run (about 10 minutes on 2 cores); writes results/latest.*
 *   node run.mjs --quick          smoke run (tiny sizes, one round); writes only with --out
 *   --out DIR                     write latest.json, latest.md and latest.svg into DIR
 *   --bench=NAME[,NAME]           only these benchmarks (tiny, pi, payloads, startup, imap)
 *   --only=NAME[,NAME]            only the systems whose name contains NAME (e.g. `mpool`, `Python`)
 *   --rounds=N                    rounds of benchmarks 1-4
 *   --python=CMD                  the Python 3 to run (default python3), or `none` to leave it out
 *
 * A quick or partial run (--bench, --only, --rounds) writes nothing unless --out says where, so it
 * never overwrites the full results.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imapMemory } from './lib/bench-imap.mjs';
import { payloads } from './lib/bench-payloads.mjs';
import { piSpeedup } from './lib/bench-pi.mjs';
import { startup } from './lib/bench-startup.mjs';
import { tinyTasks } from './lib/bench-tiny.mjs';
import { describeMachine, loadAverage, parseFlags, positiveInt } from './lib/harness.mjs';
import { hasPython } from './lib/python.mjs';
import { addRatios } from './lib/ratios.mjs';
import { renderMarkdown } from './lib/report-md.mjs';
import { renderSvg } from './lib/report-svg.mjs';

/** Two workers everywhere: the machines this runs on have two cores. */
const WORKERS = 2;
const FULL = {
  tiny: { tasks: 20_000, rounds: 5, warmupRuns: 2 },
  // 16 tasks, as in examples/pi.mjs; about 0.25 s on one worker for Node and for Python.
  pi: { terms: 200_000_000, pythonTerms: 4_000_000, chunks: 16, rounds: 7, warmupRuns: 1 },
  // Moved buffers go and come back in a millisecond or so: each run repeats until 100 ms have passed.
  payloads: { tasks: 32, rounds: 5, warmupRuns: 1, minRunMs: 100 },
  startup: { rounds: 7, warmupRuns: 1 },
  imap: { items: 10_000_000, chunksize: 1_000, sampleEvery: 100_000 },
};
// Enough to see every system run every benchmark end to end, not enough to trust the numbers.
const QUICK = {
  tiny: { tasks: 2_000, rounds: 1, warmupRuns: 1 },
  pi: { terms: 4_000_000, pythonTerms: 100_000, chunks: 16, rounds: 1, warmupRuns: 0 },
  payloads: { tasks: 4, rounds: 1, warmupRuns: 0, minRunMs: 0 },
  startup: { rounds: 1, warmupRuns: 0 },
  imap: { items: 200_000, chunksize: 1_000, sampleEvery: 100_000 },
};
const BENCHMARKS = { tiny: tinyTasks, pi: piSpeedup, payloads, startup, imap: imapMemory };
const DEFAULT_OUT = fileURLToPath(new URL('results/', import.meta.url));

// Every child process a pool starts may pipe its output into ours, and there are dozens at once
// here: more listeners than Node's default limit, which it would otherwise warn about.
process.stdout.setMaxListeners(100);
process.stderr.setMaxListeners(100);

const flags = parseFlags(process.argv.slice(2), ['quick', 'out', 'bench', 'only', 'rounds', 'python'], {
  valued: ['out', 'bench', 'only', 'rounds', 'python'],
});
const preset = flags.quick ? QUICK : FULL;
const requested = typeof flags.bench === 'string' ? flags.bench.split(',') : Object.keys(BENCHMARKS);
for (const name of requested) {
  if (!(name in BENCHMARKS)) throw new RangeError(`Expected --bench to name ${Object.keys(BENCHMARKS).join(', ')}; got \`${name}\``);
}
// Always in the suite's order, so that imap, the longest, comes last.
const benches = Object.keys(BENCHMARKS).filter((name) => requested.includes(name));
const only = typeof flags.only === 'string' ? flags.only.split(',') : null;
const rounds = flags.rounds === undefined ? null : positiveInt(flags, 'rounds', 1);
const pythonFlag = typeof flags.python === 'string' ? flags.python : 'python3';
const python = pythonFlag !== 'none' && hasPython(pythonFlag) ? pythonFlag : null;
if (pythonFlag !== 'none' && python === null) console.error(`${pythonFlag} not found: Python's pools are left out`);
const partial = flags.quick || only !== null || rounds !== null || benches.length < Object.keys(BENCHMARKS).length;
const outDir = typeof flags.out === 'string' ? flags.out : partial ? null : DEFAULT_OUT;

const report = {
  benchmark: 'mpool suite',
  date: new Date().toISOString(),
  preset: flags.quick ? 'quick' : 'full',
  workers: WORKERS,
  machine: describeMachine(),
  loadAverage: { start: loadAverage() },
  python: null,
  benchmarks: {},
};
const started = performance.now();
console.error(`load average at the start: ${report.loadAverage.start.join(' ')}`);
for (const name of benches) {
  const config = { ...preset[name], ...(rounds === null || name === 'imap' ? {} : { rounds }) };
  const t0 = performance.now();
  report.benchmarks[name] = await BENCHMARKS[name]({ ...config, workers: WORKERS, python, only });
  report.benchmarks[name].seconds = (performance.now() - t0) / 1000;
  console.error(`${name}: ${report.benchmarks[name].seconds.toFixed(1)} s`);
}
report.loadAverage.end = loadAverage();
report.seconds = (performance.now() - started) / 1000;
if (python !== null) report.python = pythonVersion(python);
addRatios(report);

const markdown = renderMarkdown(report);
console.log(markdown);
if (outDir !== null) {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(outDir, 'latest.md'), markdown);
  writeFileSync(join(outDir, 'latest.svg'), renderSvg(report));
  console.error(`written to ${join(outDir, 'latest.{json,md,svg}')}`);
}

/** The version of `command`'s Python and its default start method, which its pools use. */
function pythonVersion(command) {
  const script = 'import json, multiprocessing, platform; print(json.dumps({"version": platform.python_version(), "implementation": platform.python_implementation(), "startMethod": multiprocessing.get_start_method()}))';
  return JSON.parse(execFileSync(command, ['-c', script], { encoding: 'utf8' }));
}
