/**
 * @mpool/core: the scheduler, the Pool API, AsyncResult, the errors, the wire protocol and the
 * Executor interface that backends implement. Users import `@mpool/pool`; backends import this.
 */
export { AsyncResult, type ResultCallbacks } from './async-result.js';
export {
  AbortError,
  ConnectionLostError,
  DataCloneError,
  InitializerError,
  MpoolError,
  PoolStateError,
  QueueFullError,
  ResultNotReadyError,
  TimeoutError,
  WorkerCrashedError,
  WorkerGoneError,
  type MpoolErrorOptions,
  type WorkerExit,
} from './errors.js';
export type { Executor, TaskProgress, WorkerChannel, WorkerEvents, WorkerExitInfo, WorkerHandle, WorkerLastWord, WorkerLimits } from './executor.js';
export type { ChunkValues, MapInput, PayloadCodec, WorkerPayloadCodec } from './codec.js';
export { PackedNumbersCodec } from './codecs/packed-numbers.js';
export type { ApplyAsyncOptions, ApplyOptions, ChunksizeOption, ImapOptions, MapAsyncOptions, MapOptions, TaskOptions } from './call-options.js';
export { Pool, type Input, type Args, type PoolBackend } from './pool.js';
export type { PoolOptions } from './pool-options.js';
export type { PoolStats, TaskStats, TimeStats, WorkerStats } from './stats.js';
export type { PoolEventListener, PoolEventMap, PoolEventName, TaskFailedEvent, WorkerExitEvent, WorkerStartEvent } from './events.js';
export { getWorkerData } from './worker-data.js';
export { workerEnv, type EnvOverrides } from './worker-env.js';
export { messageOf } from './exit-info.js';
export { transfer, type Transferable } from './transfer.js';
export { task, type Task, type TaskArgs, type TaskFunction, type TaskRef, type TaskResult } from './task.js';
export type { Fallback } from './scheduler/index.js';
export { MessageKind, ResultStatus, RunMode, type FnDef, type FnSpec, type WireThrown, type WorkerInit } from './wire.js';
export { WireRelay, type RelayedTask, type RelayOptions, type WireOutcome } from './relay.js';
export { decodeThrown } from './error-codec.js';
export { typeScriptLoader, type TypeScriptLoader } from './typescript-loader.js';
export { creatorPort } from './worker/creator-port.js';
export { isPluginHandle, registerWorkerPlugin, type SideChannel, type SidePeer, type WorkerPlugin } from './plugins.js';
