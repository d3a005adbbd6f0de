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
 */
import type { Executor, PoolBackend, WorkerLimits } from '@mpool/core';
import { ForkserverExecutor, ProcessExecutor, serveChildProcesses } from '@mpool/processes';
import { ThreadExecutor } from '@mpool/threads';

/** Every context name mpool knows. */
export const CONTEXT_NAMES = ['auto', 'thread', 'fork', 'spawn', 'forkserver'] as const;
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

function executorFor(name: Exclude<ContextName, 'auto'>, limits: WorkerLimits | undefined): Executor {
  switch (name) {
    case 'thread':
      // A worker thread's own pools of processes start them here, where they are reaped when it ends.
      return new ThreadExecutor({ resourceLimits: limits, host: serveChildProcesses });
    case 'fork':
    case 'spawn':
      return new ProcessExecutor({ start: name, execArgv: heapFlags(limits) });
    case 'forkserver':
      return new ForkserverExecutor({ execArgv: heapFlags(limits) });
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

/** The backend for a context name, its workers limited to `limits`. */
export function backendFor(name: unknown, limits?: WorkerLimits): PoolBackend {
  checkContextName(name);
  checkLimits(limits);
  if (name !== 'auto') return { context: name, executor: executorFor(name, limits) };
  return {
    context: 'thread',
    executor: executorFor('thread', limits),
    fallback: { context: 'fork', executor: executorFor('fork', limits), when: needsProcess },
  };
}
