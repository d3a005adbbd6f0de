/**
 * @mpool/bullmq: mpool's Pool on a cluster, through BullMQ on Redis. `@mpool/pool` loads it for
 * `new Pool({ context: 'bullmq', connection })`; each machine of the cluster runs `mpool-worker`.
 */
export { bullmqBackend, CLUSTER_OPTION_NAMES, DEFAULT_QUEUE, DEFAULT_REDIS_URL, DEFAULT_START_TIMEOUT_MS, type ClusterOptions } from './options.js';
export { BullmqExecutor, type BullmqExecutorOptions } from './executor.js';
export type { Connection } from './connection.js';
export { serve, type ServeOptions, type Server } from './worker/serve.js';
