/**
 * In a worker thread that mpool's thread backend started: a port to the thread that started it.
 * What must outlive a worker thread is done over there, in a thread that outlives it: the process
 * backend starts a worker thread's child processes there, since only the thread that starts a
 * process hears its exit and reaps it (see @mpool/processes, child-host.ts). Undefined in a main
 * thread, in a worker process, and in a thread that mpool did not start.
 */
import type { MessagePort } from 'node:worker_threads';

let port: MessagePort | undefined;

/** Called by the thread backend's worker entry, before any task runs. */
export function setCreatorPort(creator: MessagePort): void {
  port = creator;
}

/** The port to the thread that started this worker thread, if mpool started it; else undefined. */
export function creatorPort(): MessagePort | undefined {
  return port;
}
