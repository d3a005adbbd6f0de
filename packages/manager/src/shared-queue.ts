/**
 * `manager.queue()`: an async FIFO that the parent and tasks put to and get from, as Python's
 * `Manager().Queue()`. No item is lost on its way to a task: a wait of a task that has ended (or
 * been stopped, or whose worker died) is handed nothing, and an item handed to a worker stays
 * noted until the worker confirms it; if the worker dies first, the item goes back to the front
 * of the queue, in the order it was handed.
 */
import type { Connection } from './registry.js';
import { CLOSED, DETACHED, SharedObject, VIEW } from './shared-object.js';
import { checkTimeout, PARENT, Waiters, type Owner } from './waiters.js';

/**
 * Taken items' slots are dropped from the front once there are this many and they are at least
 * half the array: rarely enough that copying the rest costs little per item.
 */
const COMPACT_AFTER = 1024;

/** What a queue's get() that runs out of time did not see. */
const NO_ITEM = 'No item arrived';

/**
 * An async FIFO held in the parent, made by `manager.queue()`, as Python's `Manager().Queue()`:
 * the parent and tasks `put` and `get`. No item is lost to a task that stopped waiting or a
 * worker that died; one whose worker died just as it arrived may be handed out again.
 * @example
 * for (const job of jobs) await queue.put(job);
 * const next = await queue.get(1000); // TimeoutError if nothing comes within a second
 */
export class SharedQueue<T> extends SharedObject {
  /** The items, from `#head` on (a shift moves `#head`; the slots before it are compacted away). */
  readonly #items: T[] = [];
  #head = 0;
  readonly #getters = new Waiters<T>();
  /** Items handed to a worker's get() and not yet confirmed, per worker, in the order handed. */
  readonly #handed = new Map<Connection, Map<number, T>>();

  /** @internal Made by `manager.queue()`. */
  constructor() {
    super('queue');
  }

  /** Adds an item; a waiting `get()` receives it at once. */
  async put(item: T): Promise<void> {
    if (!this.#handOver(item)) this.#items.push(item);
  }

  /**
   * The oldest item, waiting for one if the queue is empty; rejects with `TimeoutError` after
   * `timeoutMs` (default: wait as long as it takes).
   */
  get(timeoutMs?: number): Promise<T> {
    try {
      checkTimeout(timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#head < this.#items.length) return Promise.resolve(this.#shift() as T);
    return this.#getters.wait(PARENT, 0, timeoutMs, NO_ITEM);
  }

  /** The oldest item, or `undefined` when the queue is empty. */
  async getNowait(): Promise<T | undefined> {
    return this.#shift();
  }

  /** How many items wait in it. */
  async size(): Promise<number> {
    return this.#items.length - this.#head;
  }

  /** Whether no item waits in it. */
  async empty(): Promise<boolean> {
    return this.#items.length === this.#head;
  }

  /** @internal */
  override [VIEW](connection: Connection): object {
    // What a worker's proxy calls; the worker side turns it back into the queue's methods.
    return {
      put: (item: T) => this.put(item),
      take: (timeoutMs: number | undefined, nowait: boolean, waitId: number) => this.#take(connection, timeoutMs, nowait, waitId),
      confirm: (waitId: number) => this.#confirm(connection, waitId),
      cancel: (waitId: number) => this.#cancel(connection, waitId),
      size: () => this.size(),
      empty: () => this.empty(),
    };
  }

  /** @internal */
  override [DETACHED](connection: Connection): void {
    this.#getters.dropOwner(connection);
    const handed = this.#handed.get(connection);
    this.#handed.delete(connection);
    if (handed !== undefined) this.#putBack([...handed.values()]);
  }

  /** @internal */
  override [CLOSED](error: Error): void {
    this.#getters.refuseAll(error);
  }

  /** A worker's get (`nowait`: getNowait): `[item]`, or undefined when `nowait` finds none. */
  #take(connection: Connection, timeoutMs: number | undefined, nowait: boolean, waitId: number): Promise<[T] | undefined> {
    try {
      checkTimeout(timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#head < this.#items.length) {
      const item = this.#shift() as T;
      this.#note(connection, waitId, item);
      return Promise.resolve([item]);
    }
    if (nowait) return Promise.resolve(undefined);
    return this.#getters.wait(connection, waitId, timeoutMs, NO_ITEM).then((item) => [item]);
  }

  /** Gives `item` to the oldest waiting get, if any; whether it did. */
  #handOver(item: T): boolean {
    const getter = this.#getters.shift();
    if (getter === undefined) return false;
    if (getter.owner !== PARENT) this.#note(getter.owner, getter.waitId, item);
    getter.resolve(item);
    return true;
  }

  #note(connection: Connection, waitId: number, item: T): void {
    let handed = this.#handed.get(connection);
    if (handed === undefined) this.#handed.set(connection, (handed = new Map()));
    handed.set(waitId, item);
  }

  /** The worker has the item it waited for as `waitId`. */
  #confirm(connection: Connection, waitId: number): void {
    const handed = this.#handed.get(connection);
    if (handed === undefined) return;
    handed.delete(waitId);
    if (handed.size === 0) this.#handed.delete(connection);
  }

  /** The worker's task ended while waiting as `waitId`: stop waiting, or take back what it was handed. */
  #cancel(connection: Connection, waitId: number): void {
    if (this.#getters.cancel(connection, waitId)) return;
    const handed = this.#handed.get(connection);
    if (handed === undefined || !handed.has(waitId)) return;
    const item = handed.get(waitId) as T;
    this.#confirm(connection, waitId);
    this.#putBack([item]);
  }

  /** Items that went out and came back: first to the gets waiting, the rest at the front, in order. */
  #putBack(items: readonly T[]): void {
    let i = 0;
    while (i < items.length && this.#handOver(items[i])) i++;
    if (i < items.length) this.#items.splice(this.#head, 0, ...items.slice(i));
  }

  #shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined as T; // taken: the queue no longer keeps it
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head >= COMPACT_AFTER && this.#head * 2 >= this.#items.length) {
      // A queue that never empties would otherwise grow without end.
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return item;
  }
}
