/**
 * Contexts: Python's start methods in Node terms. A context names the backend a pool's workers
 * run on; `getContext(name).Pool(…)` is `multiprocessing.get_context(name).Pool(…)`.
 *
 *   'thread'      worker_threads: fastest start and messages, shares the process
 *   'fork'        child_process.fork, inheriting the parent's execArgv (loaders such as tsx) and env
 *   'spawn'       a fresh Node process, none of the parent's execArgv
 *   'forkserver'  processes, with a spare booted ahead so a replacement does not wait for Node
 *   'auto'        threads, moving to 'fork' processes when a task or the initializer cannot run
 *                 in a thread (the default)
 */
import type { Executor, PoolBackend } from '@mpool/core';
import { ForkserverExecutor, ProcessExecutor } from '@mpool/processes';
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

// Stateless executors are shared by every pool; a forkserver keeps a spare, so one per pool.
let threads: ThreadExecutor | undefined;
let forks: ProcessExecutor | undefined;
let spawns: ProcessExecutor | undefined;

function executorFor(name: Exclude<ContextName, 'auto'>): Executor {
  switch (name) {
    case 'thread':
      return (threads ??= new ThreadExecutor());
    case 'fork':
      return (forks ??= new ProcessExecutor({ start: 'fork' }));
    case 'spawn':
      return (spawns ??= new ProcessExecutor({ start: 'spawn' }));
    case 'forkserver':
      return new ForkserverExecutor();
  }
}

/** Throws `TypeError` unless `name` is one of mpool's context names. */
export function checkContextName(name: unknown): asserts name is ContextName {
  if (typeof name !== 'string' || !(CONTEXT_NAMES as readonly string[]).includes(name)) {
    throw new TypeError(`Expected \`context\` to be one of ${CONTEXT_NAMES.map((n) => `'${n}'`).join(', ')}, got \`${String(name)}\``);
  }
}

/** The backend for a context name. */
export function backendFor(name: unknown): PoolBackend {
  checkContextName(name);
  if (name !== 'auto') return { context: name, executor: executorFor(name) };
  return {
    context: 'thread',
    executor: executorFor('thread'),
    fallback: { context: 'fork', executor: executorFor('fork'), when: needsProcess },
  };
}
