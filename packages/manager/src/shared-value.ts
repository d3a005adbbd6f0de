/** `manager.value(initial)`: one value in the parent, as Python's `Manager().Value`. */
import { SharedObject } from './shared-object.js';

/**
 * One value held in the parent, made by `manager.value(initial)`; a task given it reaches it
 * through a proxy. A read then a write is two calls: guard a read-modify-write with a lock.
 * @example
 * await using held = await lock.acquire();
 * await counter.set((await counter.get()) + 1);
 */
export class SharedValue<T> extends SharedObject {
  #value: T;

  /** @internal Made by `manager.value(initial)`. */
  constructor(initial: T) {
    super();
    this.#value = initial;
  }

  /** The value. */
  async get(): Promise<T> {
    return this.#value;
  }

  /** Replaces the value. */
  async set(value: T): Promise<void> {
    this.#value = value;
  }
}
