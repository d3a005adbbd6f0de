/**
 * The benchmark suite's smoke run (`benchmarks/run.mjs --quick`) runs every system through every
 * benchmark end to end, as CI's only look at it: each benchmark is in the report, with numbers
 * that are measurements (positive and finite), and the full results are left alone.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { childrenOf, gone, isAlive } from './robustness/support';

const execFileAsync = promisify(execFile);
const ROOT = join(__dirname, '..');
const RUN = join(ROOT, 'benchmarks', 'run.mjs');
const RESULTS = join(ROOT, 'benchmarks', 'results');

/** Whether python3 runs here, as the benchmarks decide (benchmarks/lib/python.mjs). */
const hasPython = (): boolean => {
  const probe = spawnSync('python3', ['-c', 'import sys; sys.exit(sys.version_info[0] != 3)'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
};

/**
 * The quick run takes 30 to 50 seconds on 2 busy cores, and went past two minutes on a machine
 * saturated by other work: the limit tells a stuck run from a slow one, no more.
 */
const QUICK_RUN_LIMIT_MS = 240_000;

interface Sampled {
  median: number;
  samples: number[];
}
interface Report {
  preset: string;
  machine: { node: string; cores: number };
  loadAverage: { start: number[]; end: number[] };
  python: { version: string } | null;
  benchmarks: {
    tiny: { systems: Record<string, { oneByOne: Sampled; map: Sampled | null; mapBackToBack: Sampled | null }> };
    pi: { systems: Record<string, { speedup: Sampled; oneWorkerMs: Sampled; workersMs: Sampled }> };
    payloads: { systems: Record<string, { copied: Sampled; transferred: Sampled | null }> };
    startup: { systems: Record<string, { ms: Sampled }> };
    imap: { systems: Record<string, { startRssMB: number; peakRssMB: number; itemsPerSecond: number }> };
  };
  ratios: { benchmark: string; mpool: string; peer: string; ratio: number }[];
}

/** The pools, each measured in every benchmark. */
const NODE_SYSTEMS = [
  'mpool thread',
  'piscina',
  'tinypool',
  'workerpool',
  'poolifier FixedThreadPool',
  'mpool spawn',
  'mpool forkserver',
  'tinypool child_process',
  'workerpool process',
  'poolifier FixedClusterPool',
];

const isMeasurement = (value: number): boolean => Number.isFinite(value) && value > 0;

/** Modification times of the full run's files, to tell whether the quick run touched them. */
function latestTimes(): Record<string, number | null> {
  const times: Record<string, number | null> = {};
  for (const ext of ['json', 'md', 'svg']) {
    try {
      times[ext] = statSync(join(RESULTS, `latest.${ext}`)).mtimeMs;
    } catch {
      times[ext] = null;
    }
  }
  return times;
}

let outDir: string;
let report: Report;
let markdown: string;
let svg: string;
let before: Record<string, number | null>;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'mpool-bench-'));
  before = latestTimes();
  await execFileAsync(process.execPath, [RUN, '--quick', '--out', outDir], { cwd: ROOT, timeout: QUICK_RUN_LIMIT_MS });
  report = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8')) as Report;
  markdown = readFileSync(join(outDir, 'latest.md'), 'utf8');
  svg = readFileSync(join(outDir, 'latest.svg'), 'utf8');
}, QUICK_RUN_LIMIT_MS + 10_000);

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
});

test('the quick run reports every benchmark for every Node.js system, with positive finite medians', () => {
  expect(report.preset).toBe('quick');
  const { tiny, pi, payloads, startup, imap } = report.benchmarks;
  for (const name of NODE_SYSTEMS) {
    expect(isMeasurement(tiny.systems[name].oneByOne.median)).toBe(true);
    expect(isMeasurement(pi.systems[name].speedup.median)).toBe(true);
    expect(isMeasurement(pi.systems[name].oneWorkerMs.median)).toBe(true);
    expect(isMeasurement(payloads.systems[name].copied.median)).toBe(true);
    expect(isMeasurement(startup.systems[name].ms.median)).toBe(true);
  }
  expect(Object.keys(imap.systems)).toEqual(expect.arrayContaining(['mpool thread imap', 'mpool thread imapUnordered']));
  for (const run of Object.values(imap.systems)) {
    expect(isMeasurement(run.peakRssMB)).toBe(true);
    expect(run.peakRssMB).toBeGreaterThanOrEqual(run.startRssMB);
    expect(isMeasurement(run.itemsPerSecond)).toBe(true);
  }
});

test('start-up is measured beside its floor, a bare child_process.fork, and beside tinypool child processes given the environment', () => {
  const { startup } = report.benchmarks;
  for (const name of ['child_process.fork floor', 'tinypool child_process, given env']) expect(isMeasurement(startup.systems[name].ms.median)).toBe(true);
  if (report.python !== null) expect(isMeasurement(startup.systems["Python multiprocessing.Pool, 'spawn'"].ms.median)).toBe(true);
});

test('map and transfer are measured exactly where the system has them', () => {
  const { tiny, payloads } = report.benchmarks;
  for (const name of ['mpool thread', 'mpool spawn', 'mpool forkserver', 'poolifier FixedThreadPool']) {
    expect(isMeasurement(tiny.systems[name].map?.median ?? Number.NaN)).toBe(true);
    expect(isMeasurement(tiny.systems[name].mapBackToBack?.median ?? Number.NaN)).toBe(true);
  }
  for (const name of ['piscina', 'tinypool', 'workerpool', 'workerpool process']) {
    expect(tiny.systems[name].map).toBeNull();
    expect(tiny.systems[name].mapBackToBack).toBeNull();
  }
  // transfer() on every mpool context (copied once on processes), and the peers' own transfer lists.
  for (const name of ['mpool thread', 'mpool spawn', 'mpool forkserver', 'piscina', 'tinypool', 'workerpool', 'worker_threads by hand']) {
    expect(isMeasurement(payloads.systems[name].transferred?.median ?? Number.NaN)).toBe(true);
  }
  for (const name of ['tinypool child_process', 'workerpool process']) expect(payloads.systems[name].transferred).toBeNull();
});

test('worker threads answering postMessage by hand are measured beside the pools in the payload benchmark only', () => {
  const { tiny, pi, payloads, startup } = report.benchmarks;
  expect(isMeasurement(payloads.systems['worker_threads by hand'].copied.median)).toBe(true);
  for (const benchmark of [tiny, pi, startup]) expect(Object.keys(benchmark.systems)).not.toContain('worker_threads by hand');
  expect(markdown).toContain('| worker_threads by hand | threads |');
});

test('Python is measured when python3 is there, and mpool is set against every peer', () => {
  if (report.python !== null) {
    const names = Object.keys(report.benchmarks.tiny.systems);
    expect(names).toEqual(expect.arrayContaining(['Python multiprocessing.Pool', 'Python ProcessPoolExecutor']));
    expect(isMeasurement(report.benchmarks.tiny.systems['Python multiprocessing.Pool'].map?.median ?? Number.NaN)).toBe(true);
  }
  const peers = new Set(report.ratios.map((r) => r.peer));
  const { tiny, payloads, startup } = report.benchmarks;
  const systems = [...Object.keys(tiny.systems), ...Object.keys(payloads.systems), ...Object.keys(startup.systems)];
  expect(peers).toEqual(new Set(systems.filter((name) => !name.startsWith('mpool '))));
  for (const r of report.ratios) expect(isMeasurement(r.ratio)).toBe(true);
});

test('the machine is described, and the Markdown table and the SVG chart are written beside the JSON', () => {
  expect(report.machine.node).toBe(process.version);
  expect(report.machine.cores).toBeGreaterThan(0);
  expect(report.loadAverage.start).toHaveLength(3);
  expect(report.loadAverage.end).toHaveLength(3);
  expect(markdown).toContain('| mpool thread | threads |');
  expect(markdown).toContain('| poolifier FixedClusterPool | processes |');
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  expect(svg).toContain('>mpool thread</text>');
});

test('the quick run leaves the full results in benchmarks/results alone', () => {
  expect(latestTimes()).toEqual(before);
});

test('the image benchmark times the image example on one thread and on pools of 1 and 2 workers, threads and processes', async () => {
  await execFileAsync(process.execPath, [join(ROOT, 'benchmarks', 'image.mjs'), '--quick', '--out', outDir], { cwd: ROOT, timeout: QUICK_RUN_LIMIT_MS });
  type Way = { oneWorkerMs: number; workersMs: number; speedUpOverOneWorker: number; speedUpOverOneThread: number };
  const image = JSON.parse(readFileSync(join(outDir, 'image.json'), 'utf8')) as { preset: string; result: { oneThreadMs: number; samePixels: boolean; contexts: Record<string, Way> } };
  expect(image.preset).toBe('quick');
  expect(image.result.samePixels).toBe(true);
  expect(isMeasurement(image.result.oneThreadMs)).toBe(true);
  expect(Object.keys(image.result.contexts)).toEqual(['thread', 'spawn']);
  for (const way of Object.values(image.result.contexts)) for (const value of Object.values(way)) expect(isMeasurement(value)).toBe(true);
}, QUICK_RUN_LIMIT_MS);

test('the after-burst benchmark maps on mpool spawn and Python after a burst and once settled, with page faults', async () => {
  const out = join(outDir, 'after-burst.json');
  await execFileAsync(process.execPath, [join(ROOT, 'benchmarks', 'after-burst.mjs'), '--quick', '--out', out], { cwd: ROOT, timeout: QUICK_RUN_LIMIT_MS });
  type Phase = { mapMs: Sampled; faultsPerMap: Sampled };
  const burst = JSON.parse(readFileSync(out, 'utf8')) as { systems: Record<string, { afterBurst: Phase; settled: Phase }>; python: unknown };
  expect(Object.keys(burst.systems)).toEqual(['mpool spawn', ...(burst.python === null ? [] : ['Python multiprocessing.Pool'])]);
  for (const system of Object.values(burst.systems)) {
    for (const phase of [system.afterBurst, system.settled]) {
      expect(isMeasurement(phase.mapMs.median)).toBe(true);
      expect(Number.isFinite(phase.faultsPerMap.median) && phase.faultsPerMap.median >= 0).toBe(true);
    }
  }
}, QUICK_RUN_LIMIT_MS);

test('the IPC floor benchmark maps through hand-written child_process and socket pools, mpool and Python, and reports both rates', async () => {
  const out = join(outDir, 'ipc-floor.json');
  await execFileAsync(process.execPath, [join(ROOT, 'benchmarks', 'ipc-floor.mjs'), '--quick', '--out', out], { cwd: ROOT, timeout: QUICK_RUN_LIMIT_MS });
  const floor = JSON.parse(readFileSync(out, 'utf8')) as { systems: Record<string, { afterIdle: Sampled; backToBack: Sampled }>; python: unknown };
  const expected = ['child_process by hand', 'Unix sockets by hand', 'mpool spawn', ...(floor.python === null ? [] : ['Python multiprocessing.Pool'])];
  expect(Object.keys(floor.systems)).toEqual(expected);
  for (const system of Object.values(floor.systems)) {
    expect(isMeasurement(system.afterIdle.median)).toBe(true);
    expect(isMeasurement(system.backToBack.median)).toBe(true);
  }
}, QUICK_RUN_LIMIT_MS);

test('the IPC floor benchmark with --busy keeps the machine busy between rounds, and still measures every system', async () => {
  const out = join(outDir, 'ipc-floor-busy.json');
  await execFileAsync(process.execPath, [join(ROOT, 'benchmarks', 'ipc-floor.mjs'), '--quick', '--busy', '--gap=50', '--python=none', '--out', out], { cwd: ROOT, timeout: QUICK_RUN_LIMIT_MS });
  const floor = JSON.parse(readFileSync(out, 'utf8')) as { config: { busyGap: boolean; gapMs: number }; systems: Record<string, { afterIdle: Sampled; backToBack: Sampled }> };
  expect(floor.config).toMatchObject({ busyGap: true, gapMs: 50 });
  expect(Object.keys(floor.systems)).toEqual(['child_process by hand', 'Unix sockets by hand', 'mpool spawn']);
  for (const system of Object.values(floor.systems)) expect(isMeasurement(system.afterIdle.median)).toBe(true);
}, QUICK_RUN_LIMIT_MS);

test('a benchmark system whose process dies is reported with the end of its stderr', async () => {
  const { stdout } = await execFileAsync(process.execPath, [join(ROOT, 'test', 'fixtures', 'isolated-runner-dies.mjs')], { cwd: ROOT, timeout: QUICK_RUN_LIMIT_MS });
  expect(stdout).toContain('no such system (tiny): its process exited with code 1; the end of its stderr:');
  expect(stdout).toContain('Error: node-runner.mjs: no benchmark tiny or no system no such system');
}, QUICK_RUN_LIMIT_MS);

test('a benchmark run that is killed leaves no system process or worker of it behind', async () => {
  const out = mkdtempSync(join(tmpdir(), 'mpool-bench-killed-'));
  // workerpool's pool, unlike mpool's, keeps its process alive while it is open: the runner must
  // notice by itself that the run is gone.
  const run = spawn(process.execPath, [RUN, '--quick', '--bench=tiny', '--only=workerpool process', '--out', out], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let runners: number[] = [];
  let workers: number[] = [];
  try {
    // Its system is running, with its pool open, once a round is done.
    await new Promise<void>((resolve, reject) => {
      let said = '';
      run.stderr.on('data', (data) => {
        said += String(data);
        if (/round 1\/1 done/.test(said)) resolve();
      });
      run.once('exit', (code) => reject(new Error(`the run ended (${code}) before a round was done: ${said}`)));
    });
    runners = childrenOf(run.pid!);
    workers = runners.flatMap((pid) => childrenOf(pid));
    expect(runners.length).toBeGreaterThan(0);
    expect(workers.length).toBeGreaterThan(0); // workerpool's worker processes
    run.kill('SIGKILL');
    for (const pid of [...runners, ...workers]) await gone(pid);
  } finally {
    run.kill('SIGKILL');
    // When the test fails, what it found alive must not outlive it.
    for (const pid of [...runners, ...workers]) if (pid > 0 && isAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(out, { recursive: true, force: true });
  }
}, QUICK_RUN_LIMIT_MS);

test('the idle-wake benchmark times a Node round trip warm and after each idle gap, and Python\'s when present', async () => {
  const { stdout } = await execFileAsync(process.execPath, [join(ROOT, 'benchmarks', 'idle-wake.mjs'), '--quick', '--gaps=5,50'], { cwd: ROOT, timeout: QUICK_RUN_LIMIT_MS });
  const rows = stdout.split('\n').filter((line) => / ping /.test(line));
  expect(rows.map((line) => line.split(/\s{2,}/)[0])).toEqual(['Node ping', ...(hasPython() ? ['Python ping'] : [])]);
  for (const row of rows) {
    const times = row.trim().split(/\s{2,}/).slice(1).map(Number);
    expect(times).toHaveLength(3); // warm, then one per gap
    for (const ms of times) expect(Number.isFinite(ms) && ms > 0).toBe(true);
  }
}, QUICK_RUN_LIMIT_MS);

test('the idle-wake benchmark refuses gaps that are not milliseconds', async () => {
  await expect(execFileAsync(process.execPath, [join(ROOT, 'benchmarks', 'idle-wake.mjs'), '--quick', '--gaps=5,soon'], { cwd: ROOT, timeout: QUICK_RUN_LIMIT_MS })).rejects.toMatchObject({ stderr: expect.stringContaining('--gaps takes milliseconds') });
}, QUICK_RUN_LIMIT_MS);
