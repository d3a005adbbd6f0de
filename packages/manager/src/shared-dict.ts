/** `manager.dict()`: a Map in the parent, used from any worker through its proxy. */
import { SharedObject } from './shared-object.js';

/**
 * A Map held in the parent, made by `manager.dict()`; a task given it reaches it through a
 * proxy. Every method is async, in the parent too, so that the same code runs on both sides.
 * @example
 * await dict.set('done', (await dict.get('done') ?? 0) + 1); // not atomic: guard it with a lock
 */
export class SharedDict<K, V> extends SharedObject {
  readonly #map: Map<K, V>;

  /** @internal Made by `manager.dict()`. */
  constructor(entries?: Iterable<readonly [K, V]>) {
    super();
    this.#map = new Map(entries);
  }

  /** The value of `key`, or `undefined`. */
  async get(key: K): Promise<V | undefined> {
    return this.#map.get(key);
  }

  /** Sets `key` to `value`. */
  async set(key: K, value: V): Promise<void> {
    this.#map.set(key, value);
  }

  /** Whether `key` is there. */
  async has(key: K): Promise<boolean> {
    return this.#map.has(key);
  }

  /** Removes `key`; resolves with whether it was there. */
  async delete(key: K): Promise<boolean> {
    return this.#map.delete(key);
  }

  /** How many entries it holds. */
  async size(): Promise<number> {
    return this.#map.size;
  }

  /** A copy of its keys, in insertion order. */
  async keys(): Promise<K[]> {
    return [...this.#map.keys()];
  }

  /** A copy of its values, in insertion order. */
  async values(): Promise<V[]> {
    return [...this.#map.values()];
  }

  /** A copy of its entries, in insertion order. */
  async entries(): Promise<[K, V][]> {
    return [...this.#map.entries()];
  }

  /** Removes every entry. */
  async clear(): Promise<void> {
    this.#map.clear();
  }
}
