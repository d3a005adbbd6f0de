/**
 * The one message of the process backend's own: it carries the WorkerInit that a thread receives
 * as `workerData`. A kind number outside the core protocol's, so the two never collide.
 */
export const INIT_MESSAGE = 100;
