/**
 * `Manager`: Python's `multiprocessing.Manager()` for mpool. It holds objects in the parent and
 * hands tasks proxies to them (built on comlink), on threads and processes alike.
 *
 * @example
 * await using manager = new Manager();
 * const counter = manager.value(0);
 * const lock = manager.lock();
 * await pool.starmap(addTimes, [[counter, lock, 1000], [counter, lock, 1000]]); // tasks.ts: see the README
 * await counter.get(); // 2000
 */
import { ManagerClosedError, registerShared, SHARED_KEY, unregisterShared, type SharedHandle } from '@mpool/core';
import { SharedDict } from './shared-dict.js';
import { SharedList } from './shared-list.js';
import { SharedLock } from './shared-lock.js';
import { CLOSED, SharedObject } from './shared-object.js';
import { SharedQueue } from './shared-queue.js';
import { SharedValue } from './shared-value.js';
import type { Remote } from './remote.js';

/**
 * What `manager.share(obj)` returns: a handle to pass to tasks (as an argument or in `initargs`),
 * where it arrives as a comlink proxy, typed `Remote<T>`: every call is async. In the parent, use
 * `obj` itself.
 */
export type Shared<T> = Remote<T> & SharedHandle;

function checkIterable(value: unknown, name: string): void {
  if (value === undefined) return;
  if (value === null || typeof (value as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new TypeError(`Expected \`${name}\` to be iterable, got \`${value === null ? 'null' : typeof value}\``);
  }
}

export class Manager {
  readonly #ids = new Set<number>();
  readonly #objects = new Set<SharedObject>();
  #closed = false;

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Shares an object or a function of the parent's with tasks. A function can be called back
   * from a worker: `await report(50)`.
   * @example
   * const log = manager.share((line: string) => console.log(line));
   * await pool.apply(work, [log]);  // in the worker: await log('half way')
   */
  share<T extends object>(target: T): Shared<T> {
    this.#checkOpen('share()');
    if ((typeof target !== 'object' && typeof target !== 'function') || target === null) {
      throw new TypeError(`Expected an object or a function to share, got \`${target === null ? 'null' : typeof target}\``);
    }
    const id = registerShared({ view: () => target });
    this.#ids.add(id);
    return Object.freeze({ [SHARED_KEY]: id, kind: 'object' }) as unknown as Shared<T>;
  }

  /** A shared Map: `get`, `set`, `has`, `delete`, `size`, `keys`, `values`, `entries`, `clear`. */
  dict<K, V>(entries?: Iterable<readonly [K, V]>): SharedDict<K, V> {
    checkIterable(entries, 'entries');
    return this.#adopt(new SharedDict<K, V>(entries));
  }

  /** A shared array: `append`, `extend`, `get`, `set`, `pop`, `length`, `toArray`, `clear`. */
  list<T>(items?: Iterable<T>): SharedList<T> {
    checkIterable(items, 'items');
    return this.#adopt(new SharedList<T>(items));
  }

  /** A shared value: `get`, `set`. */
  value<T>(initial: T): SharedValue<T> {
    return this.#adopt(new SharedValue<T>(initial));
  }

  /** A lock across workers and the parent: `await using held = await lock.acquire()`. */
  lock(): SharedLock {
    return this.#adopt(new SharedLock());
  }

  /** An async FIFO: `put`, `get(timeoutMs?)`, `getNowait`, `size`, `empty`. */
  queue<T>(): SharedQueue<T> {
    return this.#adopt(new SharedQueue<T>());
  }

  /**
   * Stops serving every object this manager shared: calls from workers reject with
   * `ManagerClosedError`, and so do the waits in progress (`lock.acquire()`, `queue.get()`).
   * In the parent the objects stay usable as plain local objects. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const id of this.#ids) unregisterShared(id);
    this.#ids.clear();
    const error = new ManagerClosedError('The manager was closed while this call waited');
    for (const object of this.#objects) object[CLOSED](error);
    this.#objects.clear();
  }

  /** `await using manager = new Manager()`: closes at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #adopt<T extends SharedObject>(object: T): T {
    this.#checkOpen('a new shared object');
    this.#ids.add(object[SHARED_KEY]);
    this.#objects.add(object);
    return object;
  }

  #checkOpen(what: string): void {
    if (this.#closed) throw new ManagerClosedError(`The manager is closed: it cannot make ${what}`);
  }
}
