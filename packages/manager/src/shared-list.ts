/** `manager.list()`: an array in the parent, used from any worker through its proxy. */
import { SharedObject } from './shared-object.js';

export class SharedList<T> extends SharedObject {
  readonly #items: T[];

  constructor(items?: Iterable<T>) {
    super();
    this.#items = items === undefined ? [] : [...items];
  }

  /** Appends an item; resolves with the new length. */
  async append(item: T): Promise<number> {
    return this.#items.push(item);
  }

  /** Appends several items in one call; resolves with the new length. */
  async extend(items: readonly T[]): Promise<number> {
    return this.#items.push(...items);
  }

  /** The item at `index` (negative counts from the end), or undefined. */
  async get(index: number): Promise<T | undefined> {
    return this.#items.at(index);
  }

  async set(index: number, item: T): Promise<void> {
    if (!Number.isInteger(index) || index < 0 || index >= this.#items.length) {
      throw new RangeError(`Expected an index from 0 to ${this.#items.length - 1}, got ${index}`);
    }
    this.#items[index] = item;
  }

  async pop(): Promise<T | undefined> {
    return this.#items.pop();
  }

  async length(): Promise<number> {
    return this.#items.length;
  }

  /** A copy of the items. */
  async toArray(): Promise<T[]> {
    return [...this.#items];
  }

  async clear(): Promise<void> {
    this.#items.length = 0;
  }
}
