/**
 * Redis going away under a cluster: killed for good, restarted without its data, or unreachable
 * for a while. Each test runs its own redis-server (test/redis/server.ts) and kills it by its
 * pid, so that the Redis the other tests share is never touched.
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { InitializerError, Pool } from '@mpool/pool';
import { fixture, hold, sqr } from '../conformance/fixtures';
import { fileWritten, useGates } from '../conformance/helpers';
import { startRedis, type RedisServer } from '../redis/server';
import { startWorker, stopWorker, workersRunning, type WorkerProcess } from './cluster';

const ROOT = join(__dirname, '..', '..');
/** The pools' startTimeout here: how long they wait for a Redis that went away. Short, to keep the suite quick. */
const LOST_AFTER_MS = 1500;
/** A lost Redis fails the work within startTimeout, plus a sweep (a second) to notice, plus room for a busy machine. */
const FAIL_LIMIT_MS = LOST_AFTER_MS + 5000;
/** How long a program of the tests may take from start to its own end. */
const PROGRAM_LIMIT_MS = 30_000;
/** How often a test looks at what a worker printed. */
const POLL_MS = 20;
/** How long a worker may take to say what a test waits for. */
const SAY_LIMIT_MS = 15_000;
/** How long past startTimeout a slow Redis holds its answers. */
const PAUSE_PAST_LIMIT_MS = 500;
/** The pools' startTimeout where Redis comes back: room for it to, on a busy machine. */
const RETURN_LIMIT_MS = 20_000;
/** Failed reconnection attempts a worker makes before Redis comes back (ioredis tries every 50 ms at first). */
const ATTEMPTS = 5;

/**
 * Redis servers and mpool-workers a test started, stopped after it whatever happened. The workers
 * keep BullMQ's locks (30 s): a job must not be taken as stalled while Redis is briefly away.
 */
function useProcesses(): { redis(port?: number): Promise<RedisServer>; worker(url: string, queue: string): Promise<WorkerProcess> } {
  const servers: RedisServer[] = [];
  const workers: WorkerProcess[] = [];
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => stopWorker(worker)));
    await Promise.all(servers.splice(0).map((server) => server.stop()));
  });
  return {
    redis: async (port) => {
      const server = await startRedis(port);
      servers.push(server);
      return server;
    },
    worker: async (url, queue) => {
      const worker = await startWorker(['--redis', url, '--queue', queue, '--concurrency', '1']);
      workers.push(worker);
      return worker;
    },
  };
}

/** A 'bullmq' pool on the Redis at `url`, for the enclosing describe block, terminated after each test. */
function usePools(): (url: string, queue: string, startTimeout?: number) => Pool {
  const pools: Pool[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.terminate()));
  });
  return (url, queue, startTimeout = RETURN_LIMIT_MS) => {
    const pool = new Pool({ context: 'bullmq', connection: url, queue, processes: 1, startTimeout });
    pools.push(pool);
    return pool;
  };
}

/** Resolves once `worker` has printed `text`. */
async function said(worker: WorkerProcess, text: string): Promise<void> {
  const giveUpAt = Date.now() + SAY_LIMIT_MS;
  while (!worker.output().includes(text)) {
    if (Date.now() > giveUpAt) throw new Error(`mpool-worker never said "${text}"; it said:\n${worker.output()}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

const occurrences = (text: string, of: string): number => text.split(of).length - 1;

/** Sends `command` (inline) to the Redis on `port`; resolves with the reply, read up to its first line's end. */
function redisCommand(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let answer = '';
    socket.once('error', reject);
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) {
        socket.destroy();
        resolve(answer.trim());
      }
    });
    socket.once('connect', () => socket.write(`${command}\r\n`));
  });
}

/** A fixture program, run with Node from the repository's root. */
interface Program {
  readonly stdin: Writable;
  stdout(): string;
  stderr(): string;
  /** Its exit code once it has ended by itself; past PROGRAM_LIMIT_MS it is killed, and this is null. */
  ended(): Promise<number | null>;
}

/** Runs fixture programs for the enclosing describe block; one still running after its test is killed. */
function usePrograms(): (name: string, args: readonly string[]) => Program {
  const running = new Set<{ kill: () => void; exited: Promise<unknown> }>();
  afterEach(async () => {
    for (const program of running) program.kill();
    await Promise.all([...running].map((program) => program.exited));
    running.clear();
  });
  return (name, args) => {
    const child = spawn(process.execPath, [fixture(name), ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    running.add({ kill: () => child.kill('SIGKILL'), exited });
    return {
      stdin: child.stdin,
      stdout: () => stdout,
      stderr: () => stderr,
      ended: async () => {
        const watchdog = setTimeout(() => child.kill('SIGKILL'), PROGRAM_LIMIT_MS);
        try {
          return await exited;
        } finally {
          clearTimeout(watchdog);
        }
      },
    };
  };
}

/** Collects the warnings of `code` that the pools of the test emit. */
function useWarnings(code: string): () => unknown[] {
  let spy: jest.SpiedFunction<typeof process.emitWarning> | undefined;
  beforeEach(() => {
    spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => spy?.mockRestore());
  return () => (spy?.mock.calls ?? []).filter(([, options]) => (options as { code?: string } | undefined)?.code === code).map(([message]) => message);
}

describe('a Redis slow to answer while a pool starts', () => {
  const newPool = usePools();
  const start = useProcesses();

  test('an answer that comes past startTimeout is taken as it comes: no worker serves the queue, not a lost Redis', async () => {
    const redis = await start.redis();
    const pool = newPool(redis.url, 'slow', LOST_AFTER_MS);
    const failed = pool.apply(sqr, [2]).then(() => undefined, (error: unknown) => error);
    // Once the pool listens for events, it is looking for a worker: Redis then holds every command past startTimeout.
    const giveUpAt = Date.now() + SAY_LIMIT_MS;
    while (!(await redisCommand(redis.port, 'CLIENT LIST')).includes(':qe')) {
      if (Date.now() > giveUpAt) throw new Error('the pool never listened for events');
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    expect(await redisCommand(redis.port, `CLIENT PAUSE ${LOST_AFTER_MS + PAUSE_PAST_LIMIT_MS} ALL`)).toBe('+OK');
    const error = await failed;
    expect(error).toBeInstanceOf(InitializerError);
    expect((error as Error).message).toContain("No mpool-worker serves the queue 'slow'");
  });
});

describe('a Redis that is killed for good', () => {
  const start = useProcesses();
  const newGate = useGates();
  const run = usePrograms();

  test('fails the task out and new work with ConnectionLostError within startTimeout; terminate() settles, and the program ends by itself', async () => {
    const redis = await start.redis();
    await start.worker(redis.url, 'lost-for-good');
    const gate = newGate();
    const program = run('redis-lost.cjs', [redis.url, 'lost-for-good', String(LOST_AFTER_MS), gate.path, gate.started('out')]);
    await fileWritten(gate.started('out'));
    await redis.stop('SIGKILL');
    const killedAt = Date.now();
    const code = await program.ended();
    const steps = program.stdout().trim().split('\n').map((line) => JSON.parse(line) as { step: string; at: number; name?: string; classes?: boolean[]; message?: string; cause?: string });
    expect([code, program.stderr()]).toEqual([0, '']);
    expect(steps.map(({ step, name }) => [step, name])).toEqual([['warm', undefined], ['out', 'ConnectionLostError'], ['next', 'ConnectionLostError'], ['terminated', undefined]]);
    const out = steps[1]!;
    // Instances of ConnectionLostError and MpoolError.
    expect([out.classes, steps[2]!.classes]).toEqual([[true, true], [true, true]]);
    expect(out.message).toContain(`mpool lost Redis for the queue 'lost-for-good' on ${redis.url}: no answer for ${LOST_AFTER_MS} ms`);
    expect(out.cause).toContain('ECONNREFUSED');
    // Within the documented bound of the kill: no hang, however long the test may wait.
    expect(steps[2]!.at - killedAt).toBeLessThan(FAIL_LIMIT_MS);
  }, PROGRAM_LIMIT_MS * 2);
});

describe('a Redis that dies under an idle pool', () => {
  const start = useProcesses();
  const run = usePrograms();

  test('the pool, never closed, does not keep its program alive', async () => {
    const redis = await start.redis();
    await start.worker(redis.url, 'idle');
    const program = run('redis-lost-idle.cjs', [redis.url, 'idle']);
    const giveUpAt = Date.now() + SAY_LIMIT_MS;
    while (!program.stdout().includes('done')) {
      if (Date.now() > giveUpAt) throw new Error(`the program never said done:\n${program.stdout()}${program.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    await redis.stop('SIGKILL');
    program.stdin.end();
    expect(await program.ended()).toBe(0);
    expect([program.stdout(), program.stderr()]).toEqual(['done 25\nreleased\n', '']);
  }, PROGRAM_LIMIT_MS * 2);
});

describe('a Redis that comes back within startTimeout', () => {
  // Its pools are terminated before its Redis and workers stop (hooks run in this order).
  const newPool = usePools();
  const start = useProcesses();
  const newGate = useGates();
  const warnings = useWarnings('MPOOL_REDIS_RESTARTED');

  test('after a blip (every connection cut, the data kept), the task out carries on and runs once', async () => {
    const redis = await start.redis();
    await start.worker(redis.url, 'blip');
    const pool = newPool(redis.url, 'blip');
    const gate = newGate();
    const out = pool.applyAsync(hold, [gate.path, gate.started('out'), 'carried on']);
    await fileWritten(gate.started('out'));
    rmSync(gate.started('out'));
    // Every client's connection cut, the server and its data kept: a network blip.
    expect(await redisCommand(redis.port, 'CLIENT KILL TYPE normal')).toMatch(/^:[1-9]/);
    gate.open();
    expect(await out.get()).toBe('carried on');
    expect(existsSync(gate.started('out'))).toBe(false); // it did not run again
    expect(warnings()).toEqual([]);
    expect(await pool.apply(sqr, [5])).toBe(25);
  });

  test('restarted without its data, the task out carries on: its lost job is added again, which a warning says', async () => {
    const redis = await start.redis();
    const worker = await start.worker(redis.url, 'restarted');
    const pool = newPool(redis.url, 'restarted');
    const gate = newGate();
    const out = pool.applyAsync(hold, [gate.path, gate.started('out'), 'carried on']);
    await fileWritten(gate.started('out'));
    await redis.stop('SIGKILL');
    await start.redis(redis.port);
    // The first run ends, but the restarted Redis has no job to store its result in: the job
    // the pool adds again runs the task a second time.
    rmSync(gate.started('out'));
    gate.open();
    expect(await out.get()).toBe('carried on');
    await fileWritten(gate.started('out'));
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toContain(`Redis restarted without 1 job(s) of a pool on the queue 'restarted' on ${redis.url}: they were added again`);
    expect(await pool.apply(sqr, [6])).toBe(36);
    expect(worker.output()).not.toContain('Unhandled error event');
  });
});

describe('mpool-worker while Redis is away', () => {
  const newPool = usePools();
  const start = useProcesses();

  test('says once that Redis is lost, however often it tries again, and once that it is back, then takes new jobs', async () => {
    const redis = await start.redis();
    const worker = await start.worker(redis.url, 'outage');
    await redis.stop('SIGKILL');
    await said(worker, 'lost Redis');
    // Its port refuses nothing now but hangs up at once: each connection is an attempt the worker made.
    let attempts = 0;
    let enough!: () => void;
    const enoughAttempts = new Promise<void>((resolve) => (enough = resolve));
    const hangUp = createServer((socket) => {
      socket.destroy();
      if (++attempts >= ATTEMPTS) enough();
    });
    await new Promise<void>((resolve) => hangUp.listen(redis.port, '127.0.0.1', resolve));
    await enoughAttempts;
    await new Promise((resolve) => hangUp.close(resolve));
    await start.redis(redis.port);
    await said(worker, 'is back');
    expect(await newPool(redis.url, 'outage').apply(sqr, [7])).toBe(49);
    const output = worker.output();
    expect(occurrences(output, `lost Redis at ${redis.url}`)).toBe(1);
    expect(occurrences(output, `Redis at ${redis.url} is back: serving the queue 'outage' again`)).toBe(1);
    expect(output).not.toContain('Unhandled error event');
    expect(output).not.toContain('ECONNRESET');
  });
});

describe('mpool-worker stopped while Redis is away', () => {
  const newPool = usePools();
  const start = useProcesses();
  const newGate = useGates();

  test('finishes the job in hand, says that its result could not be stored, and exits', async () => {
    const redis = await start.redis();
    const worker = await start.worker(redis.url, 'stop-away');
    const gate = newGate();
    void newPool(redis.url, 'stop-away').applyAsync(hold, [gate.path, gate.started('held'), 'unstored']);
    await fileWritten(gate.started('held'));
    await redis.stop('SIGKILL');
    await said(worker, 'lost Redis');
    worker.child.kill('SIGTERM');
    await said(worker, 'stopping: finishing the jobs in hand');
    gate.open();
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(worker.output()).toContain('stopping while Redis is away: the results of the last 1 job(s) could not be stored');
  });
});

describe('at the end', () => {
  test('no mpool-worker is running', () => {
    expect(workersRunning()).toEqual([]);
  });
});
