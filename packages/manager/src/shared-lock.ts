/**
 * `manager.lock()`: mutual exclusion across workers and the parent.
 *
 *   await using held = await lock.acquire();   // released at the end of the block
 *
 * The parent keeps the lock; each worker's calls go through a view that knows which worker is
 * calling, so a worker that dies holding the lock (or waiting for it) lets it go.
 */
import type { Connection } from '@mpool/core';
import { CLOSED, DETACHED, SharedObject, VIEW } from './shared-object.js';

/** A held lock: release it, or let `await using` do it. Releasing twice is harmless. */
export interface LockHold {
  release(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Who holds or waits: a worker's connection, or the parent itself. */
type Owner = Connection | typeof PARENT;
const PARENT = Symbol('parent');

interface Waiter {
  readonly owner: Owner;
  readonly grant: (token: number) => void;
  readonly refuse: (error: Error) => void;
}

export class SharedLock extends SharedObject {
  #holder: { owner: Owner; token: number } | undefined;
  #waiting: Waiter[] = [];
  #nextToken = 1;

  constructor() {
    super('lock');
  }

  /** Waits for the lock, then holds it. */
  async acquire(): Promise<LockHold> {
    const token = await this.#acquire(PARENT);
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

  override [VIEW](connection: Connection): object {
    // What a worker's proxy calls; the worker side turns acquire's token into a LockHold.
    return {
      acquire: () => this.#acquire(connection),
      release: (token: number) => this.#release(token),
      locked: () => this.locked(),
    };
  }

  override [DETACHED](connection: Connection): void {
    this.#waiting = this.#waiting.filter((waiter) => waiter.owner !== connection);
    if (this.#holder?.owner === connection) this.#release(this.#holder.token);
  }

  override [CLOSED](error: Error): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const waiter of waiting) waiter.refuse(error);
  }

  #acquire(owner: Owner): Promise<number> {
    if (this.#holder === undefined) {
      const token = this.#nextToken++;
      this.#holder = { owner, token };
      return Promise.resolve(token);
    }
    return new Promise<number>((grant, refuse) => this.#waiting.push({ owner, grant, refuse }));
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
    this.#holder = { owner: next.owner, token: nextToken };
    next.grant(nextToken);
  }
}
