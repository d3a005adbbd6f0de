/**
 * What the tests of the 'bullmq' context share: the tests' Redis (see test/redis/global-setup.ts),
 * mpool-worker processes started and always stopped, and a look at what a queue holds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { childrenOf } from '../robustness/support';

const ROOT = join(__dirname, '..', '..');
const WORKER_COMMAND = join(ROOT, 'packages', 'bullmq', 'dist', 'cli.js');

/** Short locks, so that a worker that dies gives its job back within about a second. */
export const FAST_STALLS = ['--lock-duration', '1000', '--stalled-interval', '500', '--max-stalled', '1'];
/** How long a new mpool-worker may take to serve its queue. */
const START_LIMIT_MS = 15_000;
/** How long a stopped mpool-worker may take to exit. */
const STOP_LIMIT_MS = 10_000;

export function redisUrl(): string {
  const url = process.env.MPOOL_TEST_REDIS_URL;
  if (url === undefined) throw new Error('MPOOL_TEST_REDIS_URL is not set: the global setup starts Redis (see jest.config.js)');
  return url;
}

/** One mpool-worker process. */
export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with how it ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What it printed. */
  output(): string;
}

/** Runs `mpool-worker` with `args`; resolves once it says it serves its queue. */
export function startWorker(args: readonly string[]): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [WORKER_COMMAND, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mpool-worker did not start within ${START_LIMIT_MS} ms:\n${output}`)), START_LIMIT_MS);
    const read = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes(' serves ')) {
        clearTimeout(timer);
        resolve({ child, pid: child.pid as number, exited, output: () => output });
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`mpool-worker exited (code ${String(code)}, signal ${String(signal)}) before it served:\n${output}`));
    });
  });
}

/** Stops a worker (SIGKILL unless told) and waits for it to be gone. */
export async function stopWorker(worker: WorkerProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    worker.exited,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`mpool-worker ${worker.pid} did not exit`)), STOP_LIMIT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * A crew of mpool-workers on `queue` for the enclosing describe block: started before its tests,
 * killed after them. With `replace`, a worker that dies is replaced, as a supervisor would (for
 * tasks that kill the worker running them).
 */
export function useWorkers(queue: string, count: number, options: { extra?: readonly string[]; replace?: boolean } = {}): { workers: () => WorkerProcess[]; ready: () => Promise<void> } {
  const live = new Set<WorkerProcess>();
  let stopping = false;
  const replacements = new Set<Promise<unknown>>();
  const args = (): string[] => ['--redis', redisUrl(), '--queue', queue, '--concurrency', '2', ...FAST_STALLS, ...(options.extra ?? [])];
  const start = async (): Promise<void> => {
    const worker = await startWorker(args());
    live.add(worker);
    void worker.exited.then(() => {
      live.delete(worker);
      if (options.replace === true && !stopping) {
        const replacing = start().catch(() => undefined);
        replacements.add(replacing);
        void replacing.finally(() => replacements.delete(replacing));
      }
    });
  };
  beforeAll(async () => {
    await Promise.all(Array.from({ length: count }, start));
  });
  afterAll(async () => {
    stopping = true;
    await Promise.all([...replacements]);
    await Promise.all([...live].map((worker) => stopWorker(worker)));
  });
  return {
    workers: () => [...live],
    ready: async () => {
      while (live.size < count) {
        await Promise.all([...replacements]);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}

/** The jobs `queue` holds, by state (all zero once a pool has cleaned up after itself). */
export async function jobsIn(queue: string): Promise<Record<string, number>> {
  const url = new URL(redisUrl());
  const q = new Queue(queue, { connection: { host: url.hostname, port: Number(url.port) } });
  try {
    return await q.getJobCounts('active', 'completed', 'delayed', 'failed', 'prioritized', 'waiting', 'waiting-children');
  } finally {
    await q.close();
  }
}

export const NO_JOBS = { active: 0, completed: 0, delayed: 0, failed: 0, prioritized: 0, waiting: 0, 'waiting-children': 0 };

/** The pids of this process's children that run mpool-worker (the tests' Redis may be a child too). */
export function workersRunning(): number[] {
  return childrenOf(process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(WORKER_COMMAND);
    } catch {
      return false; // it ended while we looked
    }
  });
}
