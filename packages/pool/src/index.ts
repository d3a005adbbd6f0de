/**
 * mpool: Python's `multiprocessing.Pool` for Node.js, on worker threads.
 * @example
 * import { Pool, task } from '@mpool/pool';
 * const sqr = task<(x: number) => number>(new URL('./tasks.js', import.meta.url), 'sqr');
 * await using pool = new Pool(4);
 * console.log(await pool.map(sqr, [1, 2, 3])); // [1, 4, 9]
 */
export { Pool, getContext, type Context, type MpoolOptions } from './pool.js';
export { CONTEXT_NAMES, type ContextName } from './context.js';
export { Manager, ManagerClosedError, SharedDict, SharedList, SharedLock, SharedQueue, SharedValue, type LockHold, type Remote, type Shared } from '@mpool/manager';
export {
  AbortError,
  AsyncResult,
  DataCloneError,
  InitializerError,
  MpoolError,
  PoolStateError,
  ResultNotReadyError,
  TimeoutError,
  WorkerCrashedError,
  task,
  type ApplyAsyncOptions,
  type ApplyOptions,
  type ChunksizeOption,
  type Input,
  type MapAsyncOptions,
  type MapOptions,
  type Args,
  type PoolOptions,
  type ResultCallbacks,
  type Task,
  type TaskArgs,
  type TaskFunction,
  type TaskOptions,
  type TaskRef,
  type TaskResult,
  type WorkerExit,
  type WorkerLimits,
} from '@mpool/core';
