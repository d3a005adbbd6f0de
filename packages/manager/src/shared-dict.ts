/** `manager.dict()`: a Map in the parent, used from any worker through its proxy. */
import { SharedObject } from './shared-object.js';

export class SharedDict<K, V> extends SharedObject {
  readonly #map: Map<K, V>;

  constructor(entries?: Iterable<readonly [K, V]>) {
    super();
    this.#map = new Map(entries);
  }

  async get(key: K): Promise<V | undefined> {
    return this.#map.get(key);
  }

  async set(key: K, value: V): Promise<void> {
    this.#map.set(key, value);
  }

  async has(key: K): Promise<boolean> {
    return this.#map.has(key);
  }

  async delete(key: K): Promise<boolean> {
    return this.#map.delete(key);
  }

  async size(): Promise<number> {
    return this.#map.size;
  }

  async keys(): Promise<K[]> {
    return [...this.#map.keys()];
  }

  async values(): Promise<V[]> {
    return [...this.#map.values()];
  }

  async entries(): Promise<[K, V][]> {
    return [...this.#map.entries()];
  }

  async clear(): Promise<void> {
    this.#map.clear();
  }
}
