/**
 * `manager.lock()`: mutual exclusion across workers and the parent.
 *
 *   await using held = await lock.acquire();   // released at the end of the block
 *
 * The parent keeps the lock; each worker's calls go through a view that knows which worker is
 * calling. A hold taken within a task is the task's: when the task ends (returns, throws) still
 * holding it, the lock is released with a warning, as the task's proxies are; one taken by the
 * initializer lasts as long as its worker. A worker that dies or is stopped lets go of what it
 * held and of its waits.
 */
import type { Connection } from './registry.js';
import { CLOSED, DETACHED, SharedObject, VIEW } from './shared-object.js';
import { checkTimeout, PARENT, Waiters, type Owner } from './waiters.js';

/** A held lock: release it, or let `await using` do it. Releasing twice is harmless. */
export interface LockHold {
  /** Releases the lock; the longest waiting `acquire()` gets it next. */
  release(): Promise<void>;
  /** `release()`, for `await using held = await lock.acquire()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** What an acquire() that runs out of time did not do. */
const NOT_ACQUIRED = 'The lock was not acquired';

/** The code of the warning a task that ends holding a lock causes. */
const LOCK_RELEASED_WARNING = 'MPOOL_LOCK_RELEASED';

/**
 * A lock held in the parent, made by `manager.lock()`, as Python's `Manager().Lock()`: one holder
 * at a time, the parent or any task, and waiters served in turn. A task that ends still holding
 * it releases it, with a warning (`MPOOL_LOCK_RELEASED`).
 * @example
 * await using held = await lock.acquire(); // released at the end of the block
 */
export class SharedLock extends SharedObject {
  #holder: { owner: Owner; token: number; waitId: number } | undefined;
  readonly #waiting = new Waiters<number>();
  #nextToken = 1;

  /** @internal Made by `manager.lock()`. */
  constructor() {
    super('lock');
  }

  /**
   * Waits for the lock, then holds it. With `timeoutMs`, gives up after that many milliseconds
   * and rejects with `TimeoutError` (`acquire(0)` takes the lock only if it is free now), as
   * Python's `acquire(timeout=…)`; by default it waits as long as it takes.
   * @example
   * await using held = await lock.acquire(1000); // TimeoutError if not held within a second
   */
  async acquire(timeoutMs?: number): Promise<LockHold> {
    const token = await this.#acquire(PARENT, 0, timeoutMs);
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      this.#release(token);
    };
    return { release, [Symbol.asyncDispose]: release };
  }

  /** Whether someone holds the lock now. */
  async locked(): Promise<boolean> {
    return this.#holder !== undefined;
  }

  /** @internal */
  override [VIEW](connection: Connection): object {
    // What a worker's proxy calls; the worker side turns acquire's token into a LockHold, and
    // gives the lock back (`abandoned`) for a task that ends holding it.
    return {
      acquire: (timeoutMs: number | undefined, waitId: number) => this.#acquire(connection, waitId, timeoutMs),
      release: (token: number, abandoned: boolean) => {
        this.#release(token);
        if (abandoned) process.emitWarning('A task ended holding a lock of mpool\'s Manager; the lock was released', { code: LOCK_RELEASED_WARNING });
      },
      cancel: (waitId: number) => this.#cancel(connection, waitId),
      locked: () => this.locked(),
    };
  }

  /** @internal */
  override [DETACHED](connection: Connection): void {
    this.#waiting.dropOwner(connection);
    if (this.#holder?.owner === connection) this.#release(this.#holder.token);
  }

  /** @internal */
  override [CLOSED](error: Error): void {
    this.#waiting.refuseAll(error);
  }

  #acquire(owner: Owner, waitId: number, timeoutMs: number | undefined): Promise<number> {
    try {
      checkTimeout(timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#holder === undefined) {
      const token = this.#nextToken++;
      this.#holder = { owner, token, waitId };
      return Promise.resolve(token);
    }
    return this.#waiting.wait(owner, waitId, timeoutMs, NOT_ACQUIRED);
  }

  /** A worker's task ended while waiting as `waitId`: stop waiting, or let go of what it was given. */
  #cancel(connection: Connection, waitId: number): void {
    if (this.#waiting.cancel(connection, waitId)) return;
    if (this.#holder?.owner === connection && this.#holder.waitId === waitId) this.#release(this.#holder.token);
  }

  #release(token: number): void {
    if (this.#holder?.token !== token) {
      throw new Error('release() of a lock this hold does not hold (released already?)');
    }
    const next = this.#waiting.shift();
    if (next === undefined) {
      this.#holder = undefined;
      return;
    }
    const nextToken = this.#nextToken++;
    this.#holder = { owner: next.owner, token: nextToken, waitId: next.waitId };
    next.resolve(nextToken);
  }
}
