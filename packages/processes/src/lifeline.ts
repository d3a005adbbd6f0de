/**
 * The lifeline of a worker process: a pipe beside the IPC channel, whose other end only the pool's
 * process holds, in the thread that started the worker. That end closes when the pool's process
 * dies, however it dies (SIGKILL, a signal sent to its pid only), and when that thread ends: the
 * worker's watchdog (watchdog.ts) waits on it in a thread of its own, so that a worker whose task
 * never yields to its event loop still sees its pool go, and goes too.
 */

/** The stdio slot of the lifeline: the fd the worker reads it on, after the IPC channel's 3. */
export const LIFELINE_FD = 4;
