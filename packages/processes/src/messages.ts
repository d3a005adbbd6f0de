/**
 * The process backend's own messages, beside the core protocol's (kind numbers outside its range,
 * so the two never collide):
 *   pool → child   [INIT, WorkerInit]     what a thread receives as `workerData`
 *   child → pool   [UNCAUGHT, WireThrown]  the error that is about to end the child, which a
 *                                          thread's 'error' event carries by itself
 */
export const INIT_MESSAGE = 100;
export const UNCAUGHT_MESSAGE = 101;
