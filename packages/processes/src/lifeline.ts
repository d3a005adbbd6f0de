/**
 * The lifeline of a worker process: a pipe beside the IPC channel, whose other end only the pool's
 * process holds, in the thread that started the worker. That end closes when the pool's process
 * dies, however it dies (SIGKILL, a signal sent to its pid only), and when that thread ends: the
 * worker's watchdog (watchdog.ts) waits on it in a thread of its own, so that a worker whose task
 * never yields to its event loop still sees its pool go, and goes too.
 */
import { rmdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';

/** The stdio slot of the lifeline: the fd the worker reads it on, after the IPC channel's 3. */
export const LIFELINE_FD = 4;

/**
 * What a worker leaves behind once its pool's process is gone, which can no longer clean up:
 * its socket's path, if the pool never connected to it, and the sockets' directory, if that is
 * empty now. Each worker removes its own path before it tries the directory, so the last one to
 * go removes it.
 */
export function leaveSocketDir(socketPath: string): void {
  if (process.platform === 'win32') return; // a named pipe leaves no file
  try {
    unlinkSync(socketPath);
  } catch {
    // connected, and so removed already
  }
  try {
    rmdirSync(dirname(socketPath));
  } catch {
    // another worker's socket is still there (it removes the directory), or it is gone already
  }
}
