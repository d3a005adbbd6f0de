/**
 * The process backend's own messages, beside the core protocol's (kind numbers outside its range,
 * so the two never collide):
 *   pool → child   [INIT, WorkerInit]     on the socket, first: what a thread receives as `workerData`
 *   child → pool   [LISTENING]            on the IPC channel: the child's socket is ready for the pool
 *                  [UNCAUGHT, WireThrown]  on the socket (the IPC channel before it connects): the
 *                                          error that is about to end the child, which a thread's
 *                                          'error' event carries by itself
 *                  [LAST_WORD, started, running]  on the socket, the child's last frame, written as
 *                                          it exits: how far it had got (last-word.ts)
 */
export const INIT_MESSAGE = 100;
export const UNCAUGHT_MESSAGE = 101;
export const LISTENING_MESSAGE = 102;
export const LAST_WORD_MESSAGE = 103;
