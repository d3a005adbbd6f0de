/**
 * What goes wrong on a cluster, against a real Redis and real mpool-worker processes: a worker
 * machine that dies mid-task, a task that kills every worker that takes it, no worker at all, a
 * Redis that is not there, terminate() with jobs waiting, and what cannot cross machines.
 */
import { execFile } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DataCloneError, InitializerError, Manager, Pool, PoolStateError, task, WorkerCrashedError, type MpoolOptions } from '@mpool/pool';
import { fixture, hold, init, initState, sqr, workerId } from '../conformance/fixtures';
import { fileWritten, range, rejectionOf, useGates } from '../conformance/helpers';
import { FAST_STALLS, jobsIn, NO_JOBS, redisUrl, startWorker, stopWorker, useWorkers, workersRunning } from './cluster';

process.env.MPOOL_REDIS_URL = redisUrl();

const killMachine = task<() => never>(fixture('cluster-tasks.mjs'), 'killMachine');

/** A 'bullmq' pool on `queue` for the enclosing describe block, terminated after each test. */
function usePools(): (queue: string, options?: Omit<MpoolOptions, 'context' | 'queue'>) => Pool {
  const pools: Pool[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.terminate()));
  });
  return (queue, options = {}) => {
    const pool = new Pool({ processes: 1, ...options, context: 'bullmq', queue });
    pools.push(pool);
    return pool;
  };
}

/** How often a test looks at what a queue holds while it waits for a state. */
const POLL_MS = 20;
/** How long a queue may take to reach the state a test waits for. */
const QUEUE_WAIT_LIMIT_MS = 10_000;

async function queueReaches(queue: string, want: (counts: Record<string, number>) => boolean): Promise<void> {
  const giveUpAt = Date.now() + QUEUE_WAIT_LIMIT_MS;
  for (;;) {
    const counts = await jobsIn(queue);
    if (want(counts)) return;
    if (Date.now() > giveUpAt) throw new Error(`the queue ${queue} never got there: ${JSON.stringify(counts)}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** A port on 127.0.0.1 where nothing listens. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 1));
    });
  });
}

describe('a worker machine that dies mid-task', () => {
  const crew = useWorkers('machine-dies', 2);
  const newPool = usePools();
  const newGate = useGates();

  test('its task runs again on another worker (BullMQ finds the job stalled), and the result arrives', async () => {
    const pool = newPool('machine-dies');
    const gate = newGate();
    const result = pool.applyAsync(hold, [gate.path, gate.started('first'), 'survived']);
    await fileWritten(gate.started('first'));
    const pid = Number(readFileSync(gate.started('first'), 'utf8').split(':')[0]);
    const victim = crew.workers().find((worker) => worker.pid === pid);
    expect(victim).toBeDefined();
    await stopWorker(victim!, 'SIGKILL');
    gate.open();
    expect(await result.get()).toBe('survived');
    await pool.close();
    expect(await jobsIn('machine-dies')).toEqual(NO_JOBS);
  });
});

describe('a task that kills every worker that takes it', () => {
  const crew = useWorkers('deadly', 2, { replace: true });
  const newPool = usePools();

  test('fails with WorkerCrashedError, caused by the stall, and the pool goes on', async () => {
    const pool = newPool('deadly');
    const error = await rejectionOf(pool.apply(killMachine));
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as WorkerCrashedError).message).toContain('job stalled more than allowable limit');
    expect(String((error as Error).cause)).toContain('job stalled more than allowable limit');
    await crew.ready();
    expect(await pool.apply(sqr, [7])).toBe(49);
    await pool.close();
    expect(await jobsIn('deadly')).toEqual(NO_JOBS);
  });
});

describe('every worker gone while a task runs', () => {
  const newPool = usePools();
  const newGate = useGates();

  test('the task fails with WorkerCrashedError after startTimeout, rather than wait for a worker forever', async () => {
    const worker = await startWorker(['--redis', redisUrl(), '--queue', 'all-gone', '--concurrency', '1', ...FAST_STALLS]);
    const pool = newPool('all-gone', { startTimeout: 500 });
    const gate = newGate();
    const result = pool.applyAsync(hold, [gate.path, gate.started('held'), 'never']);
    await fileWritten(gate.started('held'));
    await stopWorker(worker, 'SIGKILL');
    const error = await rejectionOf(result.get());
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as Error).message).toContain("no mpool-worker has served the queue 'all-gone'");
    await pool.terminate();
    expect(await jobsIn('all-gone')).toEqual(NO_JOBS);
  });
});

describe('a pool that cannot start', () => {
  const newPool = usePools();

  test('with no worker serving its queue, its work fails after startTimeout with an error naming the queue and Redis', async () => {
    const pool = newPool('nobody-serves', { startTimeout: 300 });
    const error = await rejectionOf(pool.apply(sqr, [2]));
    expect(error).toBeInstanceOf(InitializerError);
    expect((error as Error).message).toContain("No mpool-worker serves the queue 'nobody-serves' on redis://127.0.0.1:");
    expect((error as Error).message).toContain('300 ms');
    await expect(pool.apply(sqr, [2])).rejects.toBeInstanceOf(PoolStateError);
  });

  test('without @mpool/bullmq installed, a bullmq pool says how to install it, and the other contexts work', async () => {
    const program = [
      "const { Pool } = require('@mpool/pool');",
      "try { new Pool({ context: 'bullmq' }); } catch (error) { console.log(error.name + ': ' + error.message); }",
      "const pool = new Pool({ context: 'thread', processes: 1 });",
      'pool.apply((x) => x * 2, [21]).then((value) => { console.log(value); return pool.close(); });',
    ].join('\n');
    const { stdout } = await promisify(execFile)(process.execPath, ['--require', fixture('hide-bullmq.cjs'), '-e', program], { cwd: join(__dirname, '..', '..') });
    expect(stdout).toBe("MpoolError: The 'bullmq' context needs the package @mpool/bullmq, which is not installed: npm install @mpool/bullmq\n42\n");
  });

  test('a connection that is not a Redis URL is refused with TypeError', () => {
    expect(() => new Pool({ context: 'bullmq', connection: 'http://127.0.0.1:6379' })).toThrow(/redis:\/\/ or rediss:\/\/ URL/);
    expect(() => new Pool({ context: 'bullmq', connection: 'not a url' })).toThrow(TypeError);
    expect(() => new Pool({ context: 'bullmq', connection: 6379 as unknown as string })).toThrow(TypeError);
    expect(() => new Pool({ context: 'bullmq', queue: 'a:b' })).toThrow(TypeError);
    expect(() => new Pool({ context: 'bullmq', startTimeout: -1 })).toThrow(RangeError);
  });

  test('the options of the bullmq context are refused by the others', () => {
    expect(() => new Pool({ context: 'thread', connection: redisUrl() })).toThrow(/Unknown Pool option `connection`/);
  });

  test('an unreachable Redis fails the work with an error that says so, and leaves nothing running', async () => {
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const pool = newPool('anything', { connection: url });
    const error = await rejectionOf(pool.apply(sqr, [2]));
    expect(error).toBeInstanceOf(InitializerError);
    expect((error as Error).message).toContain(`mpool could not reach Redis for the queue 'anything' on ${url}`);
    await pool.terminate();
  });
});

describe('terminate()', () => {
  useWorkers('terminated', 1);
  const newPool = usePools();
  const newGate = useGates();

  test('removes the jobs still waiting, withdraws the running ones, and rejects all with PoolStateError', async () => {
    const pool = newPool('terminated', { processes: 6 });
    const gate = newGate();
    const results = range(6).map((i) => pool.applyAsync(hold, [gate.path, gate.started(i), i]));
    // One worker of concurrency 2: two jobs run, four wait in Redis.
    await queueReaches('terminated', (counts) => counts.active === 2 && counts.waiting === 4);
    await pool.terminate();
    for (const result of results) await expect(result.get()).rejects.toBeInstanceOf(PoolStateError);
    expect(await jobsIn('terminated')).toEqual(NO_JOBS);
    // The worker's local workers that ran the held tasks were replaced: it serves at once.
    const next = newPool('terminated');
    expect(await next.apply(sqr, [5])).toBe(25);
  });
});

describe('what cannot cross machines', () => {
  useWorkers('crossing', 1);
  const newPool = usePools();

  test('a task module outside the pool’s root fails at its first use, saying so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mpool-outside-'));
    try {
      writeFileSync(join(dir, 'outside.mjs'), 'export const one = () => 1;\n');
      const pool = newPool('crossing');
      const error = await rejectionOf(pool.apply(task<() => number>(join(dir, 'outside.mjs'), 'one')));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toContain("is outside the pool's root");
      expect(await pool.apply(sqr, [3])).toBe(9);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a shared object of a Manager fails its task with DataCloneError, not a hang', async () => {
    await using manager = new Manager();
    const pool = newPool('crossing');
    const counter = manager.value(0);
    const error = await rejectionOf(pool.apply((value: unknown) => value, [counter]));
    expect(error).toBeInstanceOf(DataCloneError);
    expect((error as Error).message).toContain('cannot cross machines');
    const initError = await rejectionOf(newPool('crossing', { initializer: (value: unknown) => value, initargs: [counter] }).apply(sqr, [1]));
    expect(initError).toBeInstanceOf(InitializerError);
    expect((initError as Error).message).toContain('cannot cross machines');
  });
});

describe('pool options on a cluster', () => {
  useWorkers('options', 1);
  const newPool = usePools();

  test('the initializer runs in each local worker before its tasks, with its initargs', async () => {
    const pool = newPool('options', { initializer: init, initargs: ['from the pool', 7] });
    const states = await pool.map(initState, [undefined, undefined, undefined, undefined], 1);
    for (const state of states) expect(state.record).toEqual({ args: ['from the pool', 7], runs: 1 });
  });

  test('maxtasksperchild replaces the local workers after that many tasks', async () => {
    const pool = newPool('options', { maxtasksperchild: 1 });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await pool.apply(workerId));
    expect(new Set(ids).size).toBe(3);
  });
});

describe('mpool-worker', () => {
  const newPool = usePools();
  const newGate = useGates();

  test('with --no-inline, it refuses inline functions and runs task modules', async () => {
    const worker = await startWorker(['--redis', redisUrl(), '--queue', 'modules-only', '--concurrency', '1', '--no-inline']);
    try {
      const pool = newPool('modules-only');
      const error = await rejectionOf(pool.apply((x: number) => x + 1, [1]));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toContain('--no-inline');
      expect(await pool.apply(sqr, [4])).toBe(16);
    } finally {
      await stopWorker(worker);
    }
  });

  test('on SIGTERM, it finishes the job in hand, then exits', async () => {
    const worker = await startWorker(['--redis', redisUrl(), '--queue', 'sigterm', '--concurrency', '1', ...FAST_STALLS]);
    const pool = newPool('sigterm');
    const gate = newGate();
    const result = pool.applyAsync(hold, [gate.path, gate.started('held'), 'finished']);
    await fileWritten(gate.started('held'));
    worker.child.kill('SIGTERM');
    while (!worker.output().includes('stopping')) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    gate.open();
    expect(await result.get()).toBe('finished');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
  });

  test.each([
    [['--concurrency', '0'], '--concurrency takes an integer ≥ 1'],
    [['--bogus'], "Unknown option '--bogus'"],
    [['--redis', 'http://x'], 'redis:// or rediss:// URL'],
    [['--context', 'threads'], '--context takes one of'],
  ])('bad flags %p: a usage error, exit code 2', async (args, message) => {
    const run = startWorker(args);
    const error = await rejectionOf(run);
    expect(String(error)).toContain('code 2');
    expect(String(error)).toContain(message);
    expect(String(error)).toContain('Usage: mpool-worker');
  });
});

describe('at the end', () => {
  test('no job of any pool is left in Redis, and no mpool-worker is running', async () => {
    for (const queue of ['machine-dies', 'deadly', 'all-gone', 'nobody-serves', 'anything', 'terminated', 'crossing', 'options', 'modules-only', 'sigterm']) {
      expect([queue, await jobsIn(queue)]).toEqual([queue, NO_JOBS]);
    }
    expect(workersRunning()).toEqual([]);
  });
});
