/**
 * mpool: Python's `multiprocessing.Pool` for Node.js, on worker threads or child processes.
 * `Pool` runs tasks (`task()` references to exported functions, or self-contained functions),
 * `getContext` picks where its workers run, and `Manager` shares objects with the tasks.
 * @packageDocumentation
 * @example
 * import { Pool, task } from '@mpool/pool';
 * const sqr = task<(x: number) => number>(new URL('./tasks.js', import.meta.url), 'sqr');
 * await using pool = new Pool(4);
 * console.log(await pool.map(sqr, [1, 2, 3])); // [1, 4, 9]
 */
export { Pool, getContext, type Context, type MpoolOptions } from './pool.js';
/** The options of `new Pool(options)`, the 'bullmq' context's included (the same as MpoolOptions). */
export type { MpoolOptions as PoolOptions } from './pool.js';
export { CONTEXT_NAMES, type ClusterPoolOptions, type ContextName, type RedisConnectionOptions } from './context.js';
export { Manager, ManagerClosedError, SharedDict, SharedList, SharedLock, SharedQueue, SharedValue, type LockHold, type Remote, type Shared } from '@mpool/manager';
export {
  AbortError,
  AsyncResult,
  ConnectionLostError,
  DataCloneError,
  InitializerError,
  MpoolError,
  PoolStateError,
  QueueFullError,
  ResultNotReadyError,
  TimeoutError,
  WorkerCrashedError,
  getWorkerData,
  task,
  transfer,
  type ApplyAsyncOptions,
  type ApplyOptions,
  type ChunksizeOption,
  type ImapOptions,
  type Input,
  type MapAsyncOptions,
  type MapOptions,
  type Args,
  type PoolEventListener,
  type PoolEventMap,
  type PoolEventName,
  type PoolStats,
  type ResultCallbacks,
  type Task,
  type TaskArgs,
  type TaskFailedEvent,
  type TaskFunction,
  type TaskOptions,
  type TaskRef,
  type TaskResult,
  type TaskStats,
  type TimeStats,
  type Transferable,
  type WorkerExit,
  type WorkerExitEvent,
  type WorkerLimits,
  type WorkerStartEvent,
  type WorkerStats,
} from '@mpool/core';
