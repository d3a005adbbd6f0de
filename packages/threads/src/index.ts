/** @mpool/threads: mpool's Executor on `worker_threads`. */
export { ThreadExecutor, type ThreadExecutorOptions } from './thread-executor.js';
