/** `manager.list()`: an array in the parent, used from any worker through its proxy. */
import { SharedObject } from './shared-object.js';

/**
 * An array held in the parent, made by `manager.list()`; a task given it reaches it through a
 * proxy. Every method is async, in the parent too. Each call is a round trip from a worker:
 * `extend` several items rather than `append` them one by one.
 * @example
 * await results.extend(chunkResults); // one call for the lot
 */
export class SharedList<T> extends SharedObject {
  readonly #items: T[];

  /** @internal Made by `manager.list()`. */
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

  /** Replaces the item at `index`; rejects with `RangeError` unless 0 ≤ `index` < length. */
  async set(index: number, item: T): Promise<void> {
    if (!Number.isInteger(index) || index < 0 || index >= this.#items.length) {
      throw new RangeError(`Expected an index from 0 to ${this.#items.length - 1}, got ${index}`);
    }
    this.#items[index] = item;
  }

  /** Removes the last item and resolves with it, or with `undefined` when empty. */
  async pop(): Promise<T | undefined> {
    return this.#items.pop();
  }

  /** How many items it holds. */
  async length(): Promise<number> {
    return this.#items.length;
  }

  /** A copy of the items. */
  async toArray(): Promise<T[]> {
    return [...this.#items];
  }

  /** Removes every item. */
  async clear(): Promise<void> {
    this.#items.length = 0;
  }
}
