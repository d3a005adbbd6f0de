/**
 * The local pools of an mpool-worker: one for each setup (initializer, initargs,
 * maxtasksperchild, workerData) among the jobs it takes, so that a task runs after its own pool's initializer
 * as on one machine. A pool unused for LOCAL_POOL_IDLE_MS is closed.
 */
import { WireRelay, type Executor, type FnSpec } from '@mpool/core';
import { ForkserverExecutor, ProcessExecutor } from '@mpool/processes';
import { ThreadExecutor } from '@mpool/threads';
import { unpack, type Setup } from '../job-codec.js';
import { specFromCluster } from '../module-paths.js';

/** Where a worker's local pool runs its tasks. */
export type LocalContext = 'thread' | 'fork' | 'spawn' | 'forkserver';
export const LOCAL_CONTEXTS: readonly LocalContext[] = ['thread', 'fork', 'spawn', 'forkserver'];

/** A local pool no job has used for this long is closed: the pool that sent its jobs is likely done. */
const LOCAL_POOL_IDLE_MS = 60_000;

function executorFor(context: LocalContext): Executor {
  switch (context) {
    case 'thread':
      return new ThreadExecutor();
    case 'fork':
    case 'spawn':
      return new ProcessExecutor({ start: context });
    case 'forkserver':
      return new ForkserverExecutor();
  }
}

interface Entry {
  readonly relay: WireRelay;
  /** Jobs running on it now. */
  active: number;
  lastUsed: number;
}

export interface LocalPoolsOptions {
  readonly context: LocalContext;
  /** Workers of each local pool. */
  readonly size: number;
  readonly root: string;
  /** Whether inline code (a function's source, a data: module) may run here. */
  readonly inline: boolean;
}

export class LocalPools {
  readonly #options: LocalPoolsOptions;
  readonly #pools = new Map<string, Entry>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: LocalPoolsOptions) {
    this.#options = options;
    this.#sweeper = setInterval(() => this.#closeIdle(), LOCAL_POOL_IDLE_MS);
    this.#sweeper.unref();
  }

  /**
   * The local pool for a job's setup, made on first use; `release` it when the job is done.
   * Throws when the setup cannot run here (its initializer is inline code on a --no-inline worker).
   */
  acquire(setupKey: string, packedSetup: string): WireRelay {
    let entry = this.#pools.get(setupKey);
    if (entry === undefined) {
      const [initializer, initargs, maxTasks, workerData] = unpack(packedSetup) as Setup;
      const { context, size, root, inline } = this.#options;
      const local: FnSpec | undefined = initializer === undefined ? undefined : specFromCluster(initializer, root, inline);
      const relay = new WireRelay({
        executor: executorFor(context),
        context,
        size,
        init: { initializer: local, initargs, workerData },
        maxTasksPerChild: maxTasks ?? Infinity,
      });
      entry = { relay, active: 0, lastUsed: Date.now() };
      this.#pools.set(setupKey, entry);
    }
    entry.active++;
    return entry.relay;
  }

  release(setupKey: string): void {
    const entry = this.#pools.get(setupKey);
    if (entry === undefined) return;
    entry.active--;
    entry.lastUsed = Date.now();
  }

  /** Closes every local pool once its work is done. */
  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    const closing = [...this.#pools.values()].map((entry) => entry.relay.close());
    this.#pools.clear();
    await Promise.all(closing);
  }

  #closeIdle(): void {
    const before = Date.now() - LOCAL_POOL_IDLE_MS;
    for (const [key, entry] of this.#pools) {
      if (entry.active > 0 || entry.lastUsed > before) continue;
      this.#pools.delete(key);
      void entry.relay.close();
    }
  }
}
