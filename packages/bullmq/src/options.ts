/** The options a 'bullmq' pool takes beside a pool's own, their defaults and their checks. */
import { resolve } from 'node:path';
import type { PoolBackend } from '@mpool/core';
import { checkConnection, type Connection } from './connection.js';
import { BullmqExecutor } from './executor.js';

/** The queue a pool and its workers use when none is named. */
export const DEFAULT_QUEUE = 'mpool';
/** Where Redis is when neither `connection` nor MPOOL_REDIS_URL says: ioredis's own default. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** How long a pool waits for Redis and for a worker serving its queue: a worker machine may be booting. */
export const DEFAULT_START_TIMEOUT_MS = 30_000;

/** What a 'bullmq' pool takes beside a pool's own options. */
export interface ClusterOptions {
  /** Where Redis is: a `redis://` or `rediss://` URL, or ioredis options. Default: `MPOOL_REDIS_URL`, else `redis://127.0.0.1:6379`. */
  connection?: Connection;
  /** The BullMQ queue the pool's tasks go through; its workers serve it. Default: `'mpool'`. */
  queue?: string;
  /**
   * Milliseconds to wait for Redis and for a worker serving the queue, at the start and whenever
   * either goes away, before the pool's work fails (a lost Redis: `ConnectionLostError`). Default: 30,000.
   */
  startTimeout?: number;
  /** The directory task modules are sent relative to; workers resolve them against their `--root`. Default: the working directory. */
  root?: string;
}

/** The names of ClusterOptions, which a 'bullmq' pool accepts beside a pool's own. */
export const CLUSTER_OPTION_NAMES: readonly string[] = ['connection', 'queue', 'startTimeout', 'root'];

/** Throws `TypeError` unless `queue` is a name BullMQ takes. */
export function checkQueueName(queue: unknown, name = 'queue'): asserts queue is string {
  if (typeof queue !== 'string' || queue.length === 0 || queue.includes(':')) {
    throw new TypeError(`Expected \`${name}\` to be a non-empty queue name without ':', got \`${String(queue)}\``);
  }
}

/**
 * The backend of a 'bullmq' pool, from the pool's options (checked here: a wrong type or range
 * throws TypeError or RangeError).
 */
export function bullmqBackend(options: ClusterOptions & { maxtasksperchild?: number | null }): PoolBackend {
  const connection = options.connection ?? process.env.MPOOL_REDIS_URL ?? DEFAULT_REDIS_URL;
  checkConnection(connection);
  const queue = options.queue ?? DEFAULT_QUEUE;
  checkQueueName(queue);
  const startTimeout = options.startTimeout ?? DEFAULT_START_TIMEOUT_MS;
  if (typeof startTimeout !== 'number') throw new TypeError(`Expected \`startTimeout\` to be a number of milliseconds, got \`${typeof startTimeout}\``);
  if (!(startTimeout > 0) || !Number.isFinite(startTimeout)) throw new RangeError(`Expected \`startTimeout\` to be a number of milliseconds > 0, got \`${startTimeout}\``);
  const root = options.root ?? process.cwd();
  if (typeof root !== 'string' || root.length === 0) throw new TypeError(`Expected \`root\` to be a directory's path, got \`${String(root)}\``);
  const maxTasksPerChild = typeof options.maxtasksperchild === 'number' ? options.maxtasksperchild : null;
  return {
    context: 'bullmq',
    executor: new BullmqExecutor({ connection, queue, root: resolve(root), startTimeoutMs: startTimeout, maxTasksPerChild }),
    optionNames: CLUSTER_OPTION_NAMES,
  };
}
