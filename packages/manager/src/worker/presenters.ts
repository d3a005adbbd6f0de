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
 *
 * A lock's grant needs no confirming (the parent knows the holder, and lets go of a dead worker's
 * hold), but a hold still held when its task ends is given back, and the parent warns of it.
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
 * Runs `call` (a wait known to the parent as `waitId`) in a task's scope, and `arrive` with what
 * it got, at once, unless the task ended first: then the parent has been told to cancel the wait
 * (and took back what it had sent), and the result is a promise that never settles.
 */
async function scopedWait<V, R>(
  scope: TaskScope,
  cancel: (waitId: number) => Promise<unknown>,
  call: (waitId: number) => Promise<V>,
  arrive: (value: V, waitId: number) => R,
): Promise<R> {
  const waitId = ++lastWaitId;
  let cancelled = false;
  const onEnd = (): void => {
    cancelled = true;
    ignore(cancel(waitId));
  };
  scope.onEnd(onEnd);
  let value: V;
  try {
    value = await call(waitId);
  } catch (error) {
    if (cancelled) return never();
    throw error;
  } finally {
    scope.off(onEnd);
  }
  return cancelled ? never() : arrive(value, waitId);
}

/** A lock as its proxy offers it to a worker. */
export interface RemoteLock {
  acquire(timeoutMs: number | undefined, waitId: number): Promise<number>;
  release(token: number, abandoned: boolean): Promise<void>;
  cancel(waitId: number): Promise<void>;
  locked(): Promise<boolean>;
}

/**
 * What a lock handle becomes in a worker: `await using held = await lock.acquire()`. A hold still
 * held when its task ends is given back (`abandoned`: the parent warns).
 */
export function presentLock(remote: RemoteLock, scope: () => TaskScope): unknown {
  return {
    acquire(timeoutMs?: number): Promise<unknown> {
      const taskScope = scope();
      return scopedWait(taskScope, (waitId) => remote.cancel(waitId), (waitId) => remote.acquire(timeoutMs, waitId), (token) => {
        let released = false;
        const abandon = (): void => {
          released = true;
          ignore(remote.release(token, true));
        };
        taskScope.onEnd(abandon);
        const release = async (): Promise<void> => {
          if (released) return; // as in the parent: releasing twice is harmless
          released = true;
          taskScope.off(abandon);
          await remote.release(token, false);
        };
        return { release, [Symbol.asyncDispose]: release };
      });
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
  const take = (timeoutMs: number | undefined, nowait: boolean): Promise<unknown> =>
    scopedWait(scope(), (waitId) => remote.cancel(waitId), (waitId) => remote.take(timeoutMs, nowait, waitId), (got, waitId) => {
      if (got === undefined) return undefined; // getNowait on an empty queue
      ignore(remote.confirm(waitId));
      return got[0];
    });
  return {
    put: (item: unknown) => remote.put(item),
    get: (timeoutMs?: number) => take(timeoutMs, false),
    getNowait: () => take(undefined, true),
    size: () => remote.size(),
    empty: () => remote.empty(),
  };
}
