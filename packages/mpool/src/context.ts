/**
 * Contexts: Python's start methods in Node terms. A context names the backend a pool's workers
 * run on; `getContext(name).Pool(…)` is `multiprocessing.get_context(name).Pool(…)`.
 */
import type { PoolBackend } from '@mpool/core';
import { ThreadExecutor } from '@mpool/threads';

/** Every context name mpool knows. */
export const CONTEXT_NAMES = ['auto', 'thread', 'fork', 'spawn', 'forkserver'] as const;
export type ContextName = (typeof CONTEXT_NAMES)[number];

/** The context used when none is given. */
export const DEFAULT_CONTEXT: ContextName = 'thread';

/** Contexts that need the process backend, which this version does not have yet. */
const PROCESS_CONTEXTS = new Set<string>(['auto', 'fork', 'spawn', 'forkserver']);

let threads: ThreadExecutor | undefined;

/** The backend for a context name; throws for an unknown name or one not available yet. */
export function backendFor(name: unknown): PoolBackend {
  if (typeof name !== 'string' || !(CONTEXT_NAMES as readonly string[]).includes(name)) {
    throw new TypeError(`Expected \`context\` to be one of ${CONTEXT_NAMES.map((n) => `'${n}'`).join(', ')}, got \`${String(name)}\``);
  }
  if (PROCESS_CONTEXTS.has(name)) {
    throw new Error(`The '${name}' context runs on child processes, which this version of mpool does not support yet; use 'thread'`);
  }
  threads ??= new ThreadExecutor();
  return { context: name, executor: threads };
}
