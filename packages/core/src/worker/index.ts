/**
 * `@mpool/core/worker`: what a backend's worker entry needs, and nothing of the pool side, so that
 * a worker starts without loading the scheduler.
 */
export { runWorker } from './run-loop.js';
export { setCreatorPort } from './creator-port.js';
export { encodeThrown } from '../error-codec.js';
export type { WorkerPayloadCodec } from '../codec.js';
export type { TaskProgress, WorkerChannel } from '../executor.js';
export { CloneWorkerCodec, PackedNumbersWorkerCodec, type PackedNumbersOptions } from './codecs.js';
/** For a backend's transport: packed chunks of numbers (see numbers.ts). */
export { holdPacked, isOutgoingPacked, packedBytes } from '../numbers.js';
/** For a worker thread of a program that runs under tsx (see typescript-loader.ts). */
export { useTypeScript } from './typescript.js';
/** For a worker plugin's module (see ../plugins.ts). */
export type { PluginPort, WorkerPluginHalf } from './plugins.js';
