/**
 * The watchdog of a worker process, in a thread of its own: it waits for the lifeline (see
 * lifeline.ts) to close, and then ends the process. A task that never yields keeps the worker's
 * own event loop from ever hearing that the pool is gone; this thread's loop hears it at once.
 */
import { Socket } from 'node:net';
import { workerData } from 'node:worker_threads';
import { LIFELINE_FD } from './lifeline.js';
import { leaveSocketDir } from './socket-dir.js';

const socketPath = workerData as string;

const poolGone = (): void => {
  leaveSocketDir(socketPath);
  // Nothing the worker does can matter to anyone now, and its task may never return: not a
  // signal it could catch or ignore.
  process.kill(process.pid, 'SIGKILL');
};

const lifeline = new Socket({ fd: LIFELINE_FD, readable: true, writable: false });
lifeline.on('error', () => undefined); // its 'close' follows
lifeline.once('end', poolGone);
lifeline.once('close', poolGone);
lifeline.resume();
