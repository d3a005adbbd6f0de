/**
 * In a worker thread that mpool's thread backend started: a port to the thread that started it.
 * What must outlive a worker thread is done over there, in a thread that outlives it: the process
 * backend starts a worker thread's child processes there, since only the thread that starts a
 * process hears its exit and reaps it (see @mpool/processes, child-host.ts). Undefined in a main
 * thread, in a worker process, and in a thread that mpool did not start.
 */
import type { MessagePort } from 'node:worker_threads';

/**
 * The port lives in one slot of the thread's global object, named by a registered symbol: the
 * thread's run loop (bundled into @mpool/threads) sets it, and a pool made by a task there, which
 * loads @mpool/core as a package of its own, reads it.
 */
const CREATOR_PORT = Symbol.for('mpool.creatorPort');

type Holder = { [CREATOR_PORT]?: MessagePort };

/** Called by the thread backend's worker entry, before any task runs. */
export function setCreatorPort(creator: MessagePort): void {
  (globalThis as Holder)[CREATOR_PORT] = creator;
}

/** The port to the thread that started this worker thread, if mpool started it; else undefined. */
export function creatorPort(): MessagePort | undefined {
  return (globalThis as Holder)[CREATOR_PORT];
}
