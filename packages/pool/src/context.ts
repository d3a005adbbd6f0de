/**
 * Contexts: Python's start methods in Node terms. A context names the backend a pool's workers
 * run on; `getContext(name).Pool(…)` is `multiprocessing.get_context(name).Pool(…)`.
 *
 *   'thread'      worker_threads: fastest start and messages, shares the process
 *   'fork'        child_process.fork, inheriting the parent's execArgv (loaders such as tsx) and env
 *   'spawn'       a fresh Node process, none of the parent's execArgv but tsx's loader
 *   'forkserver'  processes, with a spare booted ahead so a replacement does not wait for Node
 *   'auto'        threads, moving to 'fork' processes when a task or the initializer cannot run
 *                 in a thread (the default); the task that could not runs again there, whatever
 *                 the call, a map's chunk whole
 *   'bullmq'      mpool-worker processes on other machines, through BullMQ on Redis (the package
 *                 @mpool/bullmq, loaded only for this context)
 */
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { MpoolError, type Executor, type PoolBackend, type WorkerLimits } from '@mpool/core';
import { ForkserverExecutor, ProcessExecutor, serveChildProcesses } from '@mpool/processes';
import { ThreadExecutor } from '@mpool/threads';
import { checkEnv, checkExecArgv, checkThreadFlags, type WorkerStart } from './worker-options.js';

/** Every context name mpool knows. */
export const CONTEXT_NAMES = ['auto', 'thread', 'fork', 'spawn', 'forkserver', 'bullmq'] as const;
/** A context's name: `'auto'` (the default), `'thread'`, `'fork'`, `'spawn'`, `'forkserver'` or `'bullmq'`. */
export type ContextName = (typeof CONTEXT_NAMES)[number];

/** The context used when none is given. */
export const DEFAULT_CONTEXT: ContextName = 'auto';

/**
 * Error codes that mean "this cannot run in a worker thread, but would in a process":
 * an operation threads do not support (`process.chdir()`, …), and a native addon that is not
 * context-aware and so loads once per process only.
 */
const THREAD_UNSUPPORTED_CODES = new Set(['ERR_WORKER_UNSUPPORTED_OPERATION', 'ERR_DLOPEN_FAILED']);

/** Whether an error from a thread worker says that a process would succeed where it failed. */
export function needsProcess(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && THREAD_UNSUPPORTED_CODES.has(code);
}

/**
 * Size, in MiB, of each of the two semi-spaces of a worker process's young generation. V8 grows
 * a young generation when much survives a scavenge and shrinks it again when allocation slows,
 * as it does whenever a pool sits idle; every regrowth writes to pages the process has given
 * back, and on some virtual machines each such page costs 12-20 µs. At one fixed size it is not
 * shrunk, and 4 MiB costs allocation-heavy code nothing measurable against V8's default (1 MiB,
 * growing to 16). The measurements behind this are in benchmarks/README.md ("Measurements
 * behind the code").
 */
const WORKER_SEMI_SPACE_MB = 4;

/**
 * Node flags for a worker process: the heap limits a thread gets from `resourceLimits`, and a
 * young generation that keeps its size (WORKER_SEMI_SPACE_MB; up to it when `resourceLimits`
 * sets a smaller one).
 */
function heapFlags(limits: WorkerLimits | undefined): string[] {
  const flags: string[] = [];
  if (limits?.maxOldGenerationSizeMb !== undefined) flags.push(`--max-old-space-size=${limits.maxOldGenerationSizeMb}`);
  // V8's young generation is three semi-spaces.
  const youngMb = limits?.maxYoungGenerationSizeMb;
  const maxSemiSpace = youngMb === undefined ? WORKER_SEMI_SPACE_MB : Math.max(1, Math.floor(youngMb / 3));
  flags.push(`--min-semi-space-size=${Math.min(WORKER_SEMI_SPACE_MB, maxSemiSpace)}`, `--max-semi-space-size=${maxSemiSpace}`);
  return flags;
}

function executorFor(name: Exclude<ContextName, 'auto' | 'bullmq'>, { limits, env, execArgv = [] }: WorkerStart): Executor {
  switch (name) {
    case 'thread':
      // A worker thread's own pools of processes start them here, where they are reaped when it ends.
      return new ThreadExecutor({ resourceLimits: limits, host: serveChildProcesses, env, execArgv });
    case 'fork':
    case 'spawn':
      return new ProcessExecutor({ start: name, execArgv: [...heapFlags(limits), ...execArgv], env });
    case 'forkserver':
      return new ForkserverExecutor({ execArgv: [...heapFlags(limits), ...execArgv], env });
  }
}

/** Throws `TypeError` unless `name` is one of mpool's context names. */
export function checkContextName(name: unknown): asserts name is ContextName {
  if (typeof name !== 'string' || !(CONTEXT_NAMES as readonly string[]).includes(name)) {
    throw new TypeError(`Expected \`context\` to be one of ${CONTEXT_NAMES.map((n) => `'${n}'`).join(', ')}, got \`${String(name)}\``);
  }
}

const LIMIT_NAMES = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'];

/** Throws `TypeError`/`RangeError` unless `limits` is a resourceLimits object of positive numbers. */
export function checkLimits(limits: unknown): asserts limits is WorkerLimits | undefined {
  if (limits === undefined) return;
  if (typeof limits !== 'object' || limits === null) {
    throw new TypeError(`Expected \`resourceLimits\` to be an object (${LIMIT_NAMES.join(', ')}), got \`${String(limits)}\``);
  }
  for (const [key, value] of Object.entries(limits)) {
    if (!LIMIT_NAMES.includes(key)) throw new TypeError(`Unknown resource limit \`${key}\`; the limits are ${LIMIT_NAMES.join(', ')}`);
    if (value === undefined) continue;
    if (typeof value !== 'number') throw new TypeError(`Expected \`resourceLimits.${key}\` to be a number of megabytes, got \`${typeof value}\``);
    if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`Expected \`resourceLimits.${key}\` to be a number of megabytes > 0, got \`${value}\``);
  }
}

/** ioredis options for the 'bullmq' context: these, and any other ioredis option. */
export interface RedisConnectionOptions {
  /** The Redis server's host. Default: `'127.0.0.1'`. */
  host?: string;
  /** The Redis server's port. Default: `6379`. */
  port?: number;
  /** A Unix socket, instead of host and port. */
  path?: string;
  /** The Redis ACL user to connect as. Default: none (Redis's `default` user). */
  username?: string;
  /** The password of that user (or of `requirepass`). Default: none. */
  password?: string;
  /** The Redis database number. Default: `0`. */
  db?: number;
  /** TLS, as `tls.connect` takes it (a `rediss://` URL does the same). */
  tls?: TlsOptions;
  [option: string]: unknown;
}

/** The options of the 'bullmq' context (see @mpool/bullmq), beside a pool's own. */
export interface ClusterPoolOptions {
  /** Where Redis is: a `redis://` or `rediss://` URL, or ioredis options. Default: `MPOOL_REDIS_URL`, else `redis://127.0.0.1:6379`. */
  connection?: string | RedisConnectionOptions;
  /** The queue the pool's tasks go through; its `mpool-worker`s serve it. Default: `'mpool'`. */
  queue?: string;
  /**
   * Milliseconds to wait for Redis and for a worker serving the queue, at the start and whenever
   * either goes away, before the pool's work fails (a lost Redis: `ConnectionLostError`). Default: 30,000.
   */
  startTimeout?: number;
  /** The directory task modules are sent relative to; workers resolve them against their `--root`. Default: the working directory. */
  root?: string;
}

/** What @mpool/bullmq gives the public package. */
interface BullmqModule {
  bullmqBackend(options: ClusterPoolOptions & { maxtasksperchild?: number | null }): PoolBackend;
}

/** @mpool/bullmq, an optional peer, loaded for the first 'bullmq' pool only. */
function loadBullmq(): BullmqModule {
  try {
    return require('@mpool/bullmq') as BullmqModule;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes("'@mpool/bullmq'")) {
      throw new MpoolError("The 'bullmq' context needs the package @mpool/bullmq, which is not installed: npm install @mpool/bullmq", { cause: error });
    }
    throw error;
  }
}

/**
 * The backend for a context name, its workers started as `start` says (`resourceLimits`, `env`,
 * `execArgv`); `cluster` holds the 'bullmq' context's options.
 */
export function backendFor(name: unknown, start: WorkerStart = {}, cluster: ClusterPoolOptions & { maxtasksperchild?: number | null } = {}): PoolBackend {
  checkContextName(name);
  checkLimits(start.limits);
  checkEnv(start.env);
  checkExecArgv(start.execArgv);
  if (name === 'bullmq') {
    if (start.limits !== undefined) throw new TypeError("`resourceLimits` is not an option of the 'bullmq' context: workers' limits are their machines' (start mpool-worker with node's heap flags)");
    if (start.env !== undefined || start.execArgv !== undefined) {
      throw new TypeError("`env` and `execArgv` are not options of the 'bullmq' context: its workers' environment and Node flags are their machines' (set them where mpool-worker starts)");
    }
    return loadBullmq().bullmqBackend(cluster);
  }
  if (name === 'thread' || name === 'auto') checkThreadFlags(start.execArgv, name);
  if (name !== 'auto') return { context: name, executor: executorFor(name, start) };
  return {
    context: 'thread',
    executor: executorFor('thread', start),
    fallback: { context: 'fork', executor: executorFor('fork', start), when: needsProcess },
  };
}
