/**
 * The Executor of the 'bullmq' context: the same pool on a cluster of machines that run
 * `mpool-worker`, through BullMQ on Redis. Its "workers" are lanes (lane.ts); its link to Redis
 * (redis-link.ts) is made with the first lane and closed when the pool is done.
 */
import { randomUUID } from 'node:crypto';
import type { Executor, WorkerEvents, WorkerHandle, WorkerInit } from '@mpool/core';
import type { Connection } from './connection.js';
import { pack, setupKeyOf, type Setup } from './job-codec.js';
import { Lane, type LaneContext } from './lane.js';
import { specForCluster } from './module-paths.js';
import { RedisLink } from './redis-link.js';

/** What a 'bullmq' pool is given. */
export interface BullmqExecutorOptions {
  readonly connection: Connection;
  readonly queue: string;
  /** The directory task modules are sent relative to. */
  readonly root: string;
  /** Milliseconds to wait for Redis and for a worker serving the queue. */
  readonly startTimeoutMs: number;
  /** The pool's `maxtasksperchild`, which the workers' local pools apply. */
  readonly maxTasksPerChild: number | null;
}

/**
 * A job's round trip through Redis and back, with room for a busy machine: measured about 1 ms on
 * an idle one and 3 to 5 ms with other work on its 2 cores. The scheduler keeps this much work
 * in flight on each lane.
 */
const ROUND_TRIP_MS = 20;

export class BullmqExecutor implements Executor {
  readonly roundTripMs = ROUND_TRIP_MS;
  readonly #options: BullmqExecutorOptions;
  readonly #poolId = randomUUID();
  #context: LaneContext | undefined;
  #nextLane = 1;
  #closing: Promise<void> | undefined;

  constructor(options: BullmqExecutorOptions) {
    this.#options = options;
  }

  start(init: WorkerInit, events: WorkerEvents): WorkerHandle {
    this.#context ??= this.#connect(init);
    return new Lane(this.#nextLane++, this.#context, events, init.initargs);
  }

  /** Withdraws what is left of the pool's jobs and closes its connections. */
  shutdown(): Promise<void> {
    this.#closing ??= this.#context === undefined ? Promise.resolve() : this.#context.link.close();
    return this.#closing;
  }

  #connect(init: WorkerInit): LaneContext {
    const { connection, queue, root, startTimeoutMs, maxTasksPerChild } = this.#options;
    let setup: LaneContext['setup'];
    try {
      const initializer = init.initializer === undefined ? undefined : specForCluster(init.initializer, root);
      const packed = pack([initializer, init.initargs, maxTasksPerChild, init.workerData] satisfies Setup);
      setup = { packed, key: setupKeyOf(packed) };
    } catch (error) {
      setup = error instanceof Error ? error : new Error(String(error));
    }
    return { link: new RedisLink({ connection, queue, startTimeoutMs }), poolId: this.#poolId, root, setup };
  }
}
