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
import { ManagerClosedError } from './errors.js';
import { SHARED_KEY, type SharedHandle, type SharedKind } from './handle.js';
import { registerShared, unregisterShared } from './registry.js';
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

/**
 * Objects held in the parent and shared with tasks, as Python's `multiprocessing.Manager()`:
 * `dict()`, `list()`, `value()`, `lock()`, `queue()`, or anything with `share()`. Pass them to
 * tasks as arguments (or in `initargs`); a worker gets a proxy, whose every call is async.
 * @example
 * await using manager = new Manager();
 * const counter = manager.value(0);
 * await pool.starmap(addOne, [[counter], [counter]]); // each task: await counter.set((await counter.get()) + 1)
 */
export class Manager {
  /**
   * The handles of the objects it shares, held weakly: an object that nobody refers to any more
   * (no handle in the parent, no proxy in a worker) is let go before `close()`.
   */
  readonly #members = new Map<number, WeakRef<object>>();
  readonly #collected = new FinalizationRegistry<number>((id) => this.#members.delete(id));
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
    // The handle is what the parent keeps and passes on; the registry keeps `target` only while
    // the handle, or a worker's proxy, is alive.
    const handle: { [SHARED_KEY]: number; kind: SharedKind } = { [SHARED_KEY]: 0, kind: 'object' };
    handle[SHARED_KEY] = registerShared(handle, { view: () => target });
    return this.#adopt(Object.freeze(handle) as SharedHandle) as unknown as Shared<T>;
  }

  /**
   * A shared Map: `get`, `set`, `has`, `delete`, `size`, `keys`, `values`, `entries`, `clear`.
   * @param entries what it starts with. Default: none.
   * @example const seen = manager.dict<string, number>([['a', 1]]);
   */
  dict<K, V>(entries?: Iterable<readonly [K, V]>): SharedDict<K, V> {
    checkIterable(entries, 'entries');
    return this.#adopt(new SharedDict<K, V>(entries));
  }

  /**
   * A shared array: `append`, `extend`, `get`, `set`, `pop`, `length`, `toArray`, `clear`.
   * @param items what it starts with. Default: none.
   * @example const results = manager.list<number>();
   */
  list<T>(items?: Iterable<T>): SharedList<T> {
    checkIterable(items, 'items');
    return this.#adopt(new SharedList<T>(items));
  }

  /**
   * A shared value: `get`, `set`, as Python's `Manager().Value`.
   * @example const counter = manager.value(0);
   */
  value<T>(initial: T): SharedValue<T> {
    return this.#adopt(new SharedValue<T>(initial));
  }

  /**
   * A lock across workers and the parent: `await using held = await lock.acquire(timeoutMs?)`.
   * A hold taken within a task is released, with a warning, if the task ends still holding it.
   */
  lock(): SharedLock {
    return this.#adopt(new SharedLock());
  }

  /**
   * An async FIFO: `put`, `get(timeoutMs?)`, `getNowait`, `size`, `empty`. An item is never lost
   * to a task that stopped waiting, nor to a worker that died before it arrived.
   */
  queue<T>(): SharedQueue<T> {
    return this.#adopt(new SharedQueue<T>());
  }

  /**
   * Stops serving every object this manager shared (those nobody referred to any more were let go
   * already, as they were collected): calls from workers reject with
   * `ManagerClosedError`, and so do the waits in progress (`lock.acquire()`, `queue.get()`).
   * In the parent the objects stay usable as plain local objects. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const error = new ManagerClosedError('The manager was closed while this call waited');
    for (const [id, member] of this.#members) {
      unregisterShared(id);
      const object = member.deref();
      if (object instanceof SharedObject) object[CLOSED](error);
    }
    this.#members.clear();
  }

  /** `await using manager = new Manager()`: closes at the end of the block. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #adopt<T extends SharedHandle>(handle: T): T {
    this.#checkOpen('a new shared object');
    const id = handle[SHARED_KEY];
    this.#members.set(id, new WeakRef(handle));
    this.#collected.register(handle, id); // no unregister token: see registerShared
    return handle;
  }

  #checkOpen(what: string): void {
    if (this.#closed) throw new ManagerClosedError(`The manager is closed: it cannot make ${what}`);
  }
}
