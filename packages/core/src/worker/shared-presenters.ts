/**
 * How a worker presents the shared objects that wait (a lock, a queue): a plain comlink proxy
 * could not tell the parent which waits belong to a task that has ended, nor confirm that an item
 * arrived. Each wait carries an id of the worker's choosing, and belongs to the task that made it
 * (see task-scope.ts):
 *
 *   queue.get()  ─[take waitId]─▶ parent hands an item, noting it as handed to this worker
 *                ◀─[item]───────  the worker confirms it (`confirm waitId`): it is the task's now
 *   task ends while waiting ─[cancel waitId]─▶ parent stops waiting, or puts the handed item back
 *   worker dies ─▶ parent puts back every item it handed and the worker did not confirm
 */
import type { TaskScope } from './task-scope.js';

/** Calls whose result nobody waits for: an error (the proxy released, the manager closed) is moot. */
function ignore(call: Promise<unknown>): void {
  call.catch(() => undefined);
}

/** What a wait of an ended task resolves to: nothing, ever; its task is gone. */
function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}

/** Ids of waits, unique in this worker. */
let lastWaitId = 0;

/**
 * Runs `call` (a wait known to the parent as `waitId`) in the running task's scope: when the task
 * ends first, the parent is told to cancel the wait, and what arrives after that is dropped (the
 * parent took it back).
 */
async function scopedWait<R>(scope: TaskScope, cancel: (waitId: number) => Promise<unknown>, call: (waitId: number) => Promise<R>): Promise<{ value: R; waitId: number } | undefined> {
  const waitId = ++lastWaitId;
  let cancelled = false;
  const onEnd = (): void => {
    cancelled = true;
    ignore(cancel(waitId));
  };
  scope.onEnd(onEnd);
  try {
    const value = await call(waitId);
    return cancelled ? undefined : { value, waitId };
  } catch (error) {
    if (cancelled) return undefined;
    throw error;
  } finally {
    scope.off(onEnd);
  }
}

/** A lock as its proxy offers it to a worker. */
export interface RemoteLock {
  acquire(): Promise<number>;
  release(token: number): Promise<void>;
  locked(): Promise<boolean>;
}

/** What a lock handle becomes in a worker: `await using held = await lock.acquire()`. */
export function presentLock(remote: RemoteLock): unknown {
  return {
    async acquire() {
      const token = await remote.acquire();
      let released = false;
      const release = async (): Promise<void> => {
        if (released) return; // as in the parent: releasing twice is harmless
        released = true;
        await remote.release(token);
      };
      return { release, [Symbol.asyncDispose]: release };
    },
    locked: () => remote.locked(),
  };
}

/** A queue as its proxy offers it to a worker; `take` resolves to `[item]`, or undefined for none. */
export interface RemoteQueue {
  put(item: unknown): Promise<void>;
  take(timeoutMs: number | undefined, nowait: boolean, waitId: number): Promise<[unknown] | undefined>;
  confirm(waitId: number): Promise<void>;
  cancel(waitId: number): Promise<void>;
  size(): Promise<number>;
  empty(): Promise<boolean>;
}

/** What a queue handle becomes in a worker: the queue's methods, each item confirmed on arrival. */
export function presentQueue(remote: RemoteQueue, scope: () => TaskScope): unknown {
  const take = async (timeoutMs: number | undefined, nowait: boolean): Promise<unknown> => {
    const taken = await scopedWait(scope(), (waitId) => remote.cancel(waitId), (waitId) => remote.take(timeoutMs, nowait, waitId));
    if (taken === undefined) return never();
    if (taken.value === undefined) return undefined; // getNowait on an empty queue
    ignore(remote.confirm(taken.waitId));
    return taken.value[0];
  };
  return {
    put: (item: unknown) => remote.put(item),
    get: (timeoutMs?: number) => take(timeoutMs, false),
    getNowait: () => take(undefined, true),
    size: () => remote.size(),
    empty: () => remote.empty(),
  };
}
