/**
 * The floor under a map on processes: how fast can any Node pool map tiny tasks through
 * child_process IPC, against Python's `multiprocessing.Pool.map`?
 *
 * Four systems map `inc` over 20,000 numbers with chunksize 2,500 (Python's default for 2
 * workers), on 2 worker processes:
 *   - `child_process by hand`: the least a Node program can do through child_process IPC: fork 2
 *     children, send the chunks to them in turn, each child answers a chunk with its results; no
 *     pool, no protocol, no error handling (tasks/ipc-floor-child.mjs);
 *   - `Unix sockets by hand`: the least a Node program can do at all: the same chunks as float64
 *     bytes over a Unix socket per child, no serializer (tasks/ipc-floor-socket-child.mjs);
 *   - `mpool spawn`: `pool.map(inc, inputs, 2500)`;
 *   - `Python multiprocessing.Pool`: `pool.map(inc, inputs, 2500)` (python/pools.py, benchmark `map`).
 * Every round, each system sits idle for `gap` ms (with `--busy`, while one process per core
 * makes garbage, as the other systems do between a system's rounds in the full suite), maps once
 * (the `after idle` rate), then maps
 * `warm` more times back to back (the median is the `back to back` rate). Systems interleaved,
 * medians over the rounds.
 *
 *   node ipc-floor.mjs                 full run; writes results/ipc-floor.json
 *   node ipc-floor.mjs --quick         smoke run; writes nothing
 *   --rounds=N --gap=MS --out=PATH     override the defaults; --out also writes a quick run
 *   --busy                             the machine is kept busy during each gap (tasks/busy-child.mjs)
 */
import { fork, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool, task } from '@mpool/pool';
import { describeMachine, formatTable, incRate, loadAverage, median, parseFlags, positiveInt, runInterleaved } from './lib/harness.mjs';
import { hasPython, pythonEntry, PYTHON_SYSTEMS } from './lib/python.mjs';
import { frameOf, readFrames } from './tasks/float-frames.mjs';

const WORKERS = 2;
const TASKS = 20_000;
const CHUNKSIZE = Math.ceil(TASKS / (WORKERS * 4));
const FULL = { rounds: 15, gap: 300, warm: 10, warmupRuns: 1 };
const QUICK = { rounds: 1, gap: 10, warm: 2, warmupRuns: 0 };
const DEFAULT_OUT = fileURLToPath(new URL('results/ipc-floor.json', import.meta.url));
const CHILD = fileURLToPath(new URL('tasks/ipc-floor-child.mjs', import.meta.url));
const SOCKET_CHILD = fileURLToPath(new URL('tasks/ipc-floor-socket-child.mjs', import.meta.url));
const BUSY_CHILD = fileURLToPath(new URL('tasks/busy-child.mjs', import.meta.url));

const flags = parseFlags(process.argv.slice(2), ['quick', 'rounds', 'gap', 'out', 'python', 'busy'], { valued: ['rounds', 'gap', 'out', 'python'] });
const preset = flags.quick ? QUICK : FULL;
const config = {
  tasks: TASKS,
  chunksize: CHUNKSIZE,
  workers: WORKERS,
  rounds: positiveInt(flags, 'rounds', preset.rounds),
  gapMs: positiveInt(flags, 'gap', preset.gap),
  busyGap: flags.busy === true,
  warm: preset.warm,
  warmupRuns: preset.warmupRuns,
};
const out = typeof flags.out === 'string' ? flags.out : flags.quick ? null : DEFAULT_OUT;
const pythonCommand = typeof flags.python === 'string' ? flags.python : 'python3';
const python = pythonCommand !== 'none' && hasPython(pythonCommand) ? pythonCommand : null;

const inputs = Array.from({ length: TASKS }, (_, i) => i);

/** Tasks per second of one map made by `call`, its results checked. */
const rate = (name, call) => incRate(name, inputs, call);

/** A system's round: one map after the idle gap, then `warm` maps back to back. */
async function round(name, map) {
  const cold = await rate(name, map);
  const warm = [];
  for (let i = 0; i < config.warm; i++) warm.push(await rate(name, map));
  return { cold, warm: median(warm) };
}

/** The hand-written map: chunks to the children in turn, results joined in order. */
function byHand() {
  let children = [];
  const map = () =>
    new Promise((resolve) => {
      const parts = [];
      let left = Math.ceil(inputs.length / CHUNKSIZE);
      const pending = children.map(() => []);
      for (let k = 0, offset = 0; offset < inputs.length; k++, offset += CHUNKSIZE) {
        const w = k % children.length;
        pending[w].push(k);
        children[w].send(inputs.slice(offset, offset + CHUNKSIZE));
      }
      children.forEach((child, w) => {
        const onResults = (results) => {
          parts[pending[w].shift()] = results;
          if (pending[w].length === 0) child.off('message', onResults);
          if (--left === 0) resolve([].concat(...parts));
        };
        child.on('message', onResults);
      });
    });
  return {
    name: 'child_process by hand',
    start() {
      children = Array.from({ length: WORKERS }, () => fork(CHILD, [], { serialization: 'advanced', execArgv: [] }));
    },
    measure: () => round('child_process by hand', map),
    stop: () => Promise.all(children.map((child) => new Promise((r) => (child.exitCode !== null ? r() : (child.once('exit', r), child.disconnect()))))),
  };
}

/**
 * The socket map: the same chunks as bytes (float64s) over a Unix socket per child, read back
 * into the returned array. No serializer, no IPC channel: the least a Node pool of processes can
 * do (tasks/ipc-floor-socket-child.mjs).
 */
function bySocket() {
  const name = 'Unix sockets by hand';
  let dir;
  let server;
  let children = [];
  const sockets = [];
  /** Per socket, the chunk index of each frame sent and not yet answered, in order. */
  const sent = [];
  let results;
  let left = 0;
  let done;
  const map = () =>
    new Promise((resolve) => {
      done = resolve;
      results = new Array(inputs.length);
      left = Math.ceil(inputs.length / CHUNKSIZE);
      for (let k = 0, offset = 0; offset < inputs.length; k++, offset += CHUNKSIZE) {
        const w = k % sockets.length;
        sent[w].push(k);
        sockets[w].write(frameOf(Math.min(CHUNKSIZE, inputs.length - offset), (i) => inputs[offset + i]));
      }
    });
  return {
    name,
    async start() {
      dir = mkdtempSync(join(tmpdir(), 'mpool-floor-'));
      server = createServer();
      const path = join(dir, 'floor.sock');
      await new Promise((resolve) => server.listen(path, resolve));
      const connected = new Promise((resolve) => {
        server.on('connection', (socket) => {
          sockets.push(socket);
          if (sockets.length === WORKERS) resolve();
        });
      });
      children = Array.from({ length: WORKERS }, () => spawn(process.execPath, [SOCKET_CHILD, path], { stdio: 'inherit' }));
      await connected;
      sockets.forEach((socket, w) => {
        sent[w] = [];
        readFrames(socket, (frame, at) => {
          const offset = sent[w].shift() * CHUNKSIZE;
          for (let i = 0; at + i * 8 < frame.length; i++) results[offset + i] = frame.readDoubleLE(at + i * 8);
          if (--left === 0) done(results);
        });
      });
    },
    measure: () => round(name, map),
    async stop() {
      const exited = children.map((child) => new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r))));
      for (const socket of sockets) socket.destroy();
      server?.close();
      await Promise.all(exited);
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function mpoolSpawn() {
  const inc = task(new URL('tasks/mpool-tasks.mjs', import.meta.url), 'inc');
  let pool;
  return {
    name: 'mpool spawn',
    start() {
      pool = new Pool({ processes: WORKERS, context: 'spawn' });
    },
    measure: () => round('mpool spawn', () => pool.map(inc, inputs, CHUNKSIZE)),
    stop: () => pool?.close(),
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** `ms` of one busy process per core; resolves once they have all exited. */
const busy = (ms) =>
  Promise.all(
    Array.from({ length: availableParallelism() }, () => {
      const child = spawn(process.execPath, [BUSY_CHILD, String(ms)], { stdio: 'inherit' });
      return new Promise((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`busy-child.mjs exited with ${code}`))));
      });
    }),
  );
const systems = [byHand(), bySocket(), mpoolSpawn()];
if (python !== null) systems.push(pythonEntry(python, PYTHON_SYSTEMS[0], 'map', { tasks: TASKS, workers: WORKERS, chunksize: CHUNKSIZE, warm: config.warm }));

const machine = describeMachine();
const load = { start: loadAverage() };
const samples = await runInterleaved(systems, {
  rounds: config.rounds,
  warmupRuns: config.warmupRuns,
  measure: async (system) => {
    await (config.busyGap ? busy(config.gapMs) : sleep(config.gapMs));
    return system.measure();
  },
  warmup: (system) => system.measure(),
  label: 'ipc floor: ',
});
load.end = loadAverage();

const results = Object.fromEntries(
  [...samples].map(([name, runs]) => [
    name,
    {
      afterIdle: { median: median(runs.map((r) => r.cold)), samples: runs.map((r) => r.cold) },
      backToBack: { median: median(runs.map((r) => r.warm)), samples: runs.map((r) => r.warm) },
    },
  ]),
);
const int = (x) => Math.round(x).toLocaleString('en-US');
console.log(
  `ipc floor: map of ${TASKS.toLocaleString('en-US')} tiny tasks, chunksize ${CHUNKSIZE}, ${WORKERS} worker processes, ` +
    `${config.rounds} rounds, ${config.gapMs} ms ${config.busyGap ? 'of other processes busy' : 'idle'} before each; ${machine.node}, ${machine.cpuModel}, ${machine.cores} cores; ` +
    `load average ${load.start.join(' ')}`,
);
const byHandName = 'child_process by hand';
const pythonName = PYTHON_SYSTEMS[0].name;
console.log(
  formatTable(
    ['system', 'after idle, tasks/s', 'back to back, tasks/s', `after idle ÷ ${python === null ? 'by hand' : 'Python'}`, `back to back ÷ ${python === null ? 'by hand' : 'Python'}`],
    Object.entries(results).map(([name, r]) => {
      const base = results[python === null ? byHandName : pythonName];
      return [name, int(r.afterIdle.median), int(r.backToBack.median), (r.afterIdle.median / base.afterIdle.median).toFixed(2), (r.backToBack.median / base.backToBack.median).toFixed(2)];
    }),
  ),
);

if (out !== null) {
  const report = { benchmark: 'ipc-floor', date: new Date().toISOString(), machine, config, loadAverage: load, python: python === null ? null : systems[3].info, systems: results };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwritten to ${out}`);
}
