/**
 * Python's process pools as systems of run.mjs: each is a python/pools.py process that keeps its
 * pools open and answers one measurement per `run` line, so that its rounds can be interleaved
 * with the Node pools' rounds and every system sees the same machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../python/pools.py', import.meta.url));

/** The two Python systems: what pools.py calls them and what the tables call them. */
export const PYTHON_SYSTEMS = [
  { id: 'pool', name: 'Python multiprocessing.Pool', library: 'python', runsOn: 'process', transfer: null },
  { id: 'executor', name: 'Python ProcessPoolExecutor', library: 'python', runsOn: 'process', transfer: null },
];

/** Python systems of the start-up benchmark alone: `Pool` with the 'spawn' start method, a fresh interpreter a worker. */
export const PYTHON_STARTUP_SYSTEMS = [{ id: 'pool-spawn', name: "Python multiprocessing.Pool, 'spawn'", library: 'python', runsOn: 'process', transfer: null }];

/** Whether `command` runs as a Python 3; benchmarks without it leave Python out. */
export function hasPython(command) {
  const probe = spawnSync(command, ['-c', 'import sys; sys.exit(sys.version_info[0] != 3)'], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

/**
 * A running pools.py: `ready` resolves to its first line (its Python version and start method),
 * `run()` to the measurements of one run, `stop()` once it has shut its pools down and exited.
 */
export function startPython(command, system, benchmark, config) {
  const args = [SCRIPT, system, benchmark, JSON.stringify(config)];
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const waiting = [];
  let failure = null;
  const fail = (error) => {
    failure ??= error;
    for (const { reject } of waiting.splice(0)) reject(failure);
  };
  lines.on('line', (line) => {
    const next = waiting.shift();
    if (next === undefined) return;
    try {
      next.resolve(JSON.parse(line));
    } catch (error) {
      next.reject(new Error(`pools.py ${system} ${benchmark} printed something other than JSON: ${line}`, { cause: error }));
    }
  });
  const exited = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      fail(new Error(`pools.py ${system} ${benchmark} exited with ${signal ?? `code ${code}`}`));
      resolve(code);
    });
  });
  child.on('error', fail);
  // A write after the process died fails here rather than as an uncaught 'error' event.
  child.stdin.on('error', fail);
  const nextLine = () =>
    new Promise((resolve, reject) => {
      if (failure !== null) reject(failure);
      else waiting.push({ resolve, reject });
    });
  const ready = nextLine();
  return {
    ready,
    /** One measured run; `warmup` asks for the lighter warm-up run where the benchmark has one. */
    run(command = 'run') {
      const answer = nextLine();
      child.stdin.write(`${command}\n`);
      return answer;
    },
    async stop() {
      child.stdin.end();
      const code = await exited;
      if (code !== 0) throw new Error(`pools.py ${system} ${benchmark} exited with code ${code}`);
    },
  };
}

/**
 * A Python system as an entry of `runInterleaved`: `start()` launches its pools.py and waits for
 * it to be ready (its self-description lands in `entry.info`), `measure()` is one run, `warmup()`
 * one warm-up run, `stop()` ends it.
 */
export function pythonEntry(command, system, benchmark, config) {
  let driver;
  const entry = {
    ...system,
    info: null,
    async start() {
      driver = startPython(command, system.id, benchmark, config);
      entry.info = await driver.ready;
    },
    /** One run; `kind` picks one of the benchmark's measurements where it has several. */
    measure: (kind) => driver.run(kind === undefined ? 'run' : `run ${kind}`),
    warmup: () => driver.run('warmup'),
    stop: () => driver?.stop(),
  };
  return entry;
}
