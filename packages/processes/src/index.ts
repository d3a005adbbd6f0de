/** @mpool/processes: mpool's Executors on `child_process`: fork, spawn and forkserver. */
export { serveChildProcesses } from './child-host.js';
export { ForkserverExecutor, type ForkserverExecutorOptions } from './forkserver-executor.js';
export { ProcessExecutor, type ProcessExecutorOptions } from './process-executor.js';
export { TERMINATE_GRACE_MS } from './process-worker.js';
