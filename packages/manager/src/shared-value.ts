/** `manager.value(initial)`: one value in the parent, as Python's `Manager().Value`. */
import { SharedObject } from './shared-object.js';

export class SharedValue<T> extends SharedObject {
  #value: T;

  constructor(initial: T) {
    super();
    this.#value = initial;
  }

  async get(): Promise<T> {
    return this.#value;
  }

  async set(value: T): Promise<void> {
    this.#value = value;
  }
}
