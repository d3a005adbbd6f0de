/**
 * `manager.queue()`: an async FIFO that the parent and tasks put to and get from, as Python's
 * `Manager().Queue()`. A worker that dies while waiting in `get()` stops waiting: no item is
 * handed to it.
 */
import { TimeoutError, type Connection } from '@mpool/core';
import { CLOSED, DISCONNECTED, SharedObject, VIEW } from './shared-object.js';

type Owner = Connection | typeof PARENT;
const PARENT = Symbol('parent');

interface Getter<T> {
  readonly owner: Owner;
  readonly take: (item: T) => void;
  readonly refuse: (error: Error) => void;
}

export class SharedQueue<T> extends SharedObject {
  readonly #items: T[] = [];
  #head = 0;
  #getters: Getter<T>[] = [];

  /** Adds an item; a waiting `get()` receives it at once. */
  async put(item: T): Promise<void> {
    const getter = this.#getters.shift();
    if (getter !== undefined) getter.take(item);
    else this.#items.push(item);
  }

  /**
   * The oldest item, waiting for one if the queue is empty; rejects with `TimeoutError` after
   * `timeoutMs` (default: wait as long as it takes).
   */
  get(timeoutMs?: number): Promise<T> {
    return this.#get(PARENT, timeoutMs);
  }

  static #checkTimeout(timeoutMs: unknown): void {
    if (timeoutMs === undefined) return;
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) {
      throw new TypeError(`Expected \`timeoutMs\` to be a number of milliseconds, got \`${typeof timeoutMs}\``);
    }
    if (timeoutMs < 0 || !Number.isFinite(timeoutMs)) {
      throw new RangeError(`Expected \`timeoutMs\` to be a finite number of milliseconds ≥ 0, got \`${timeoutMs}\``);
    }
  }

  /** The oldest item, or `undefined` when the queue is empty. */
  async getNowait(): Promise<T | undefined> {
    return this.#shift();
  }

  async size(): Promise<number> {
    return this.#items.length - this.#head;
  }

  async empty(): Promise<boolean> {
    return this.#items.length === this.#head;
  }

  override [VIEW](connection: Connection): object {
    return {
      put: (item: T) => this.put(item),
      get: (timeoutMs?: number) => this.#get(connection, timeoutMs),
      getNowait: () => this.getNowait(),
      size: () => this.size(),
      empty: () => this.empty(),
    };
  }

  override [DISCONNECTED](connection: Connection): void {
    this.#getters = this.#getters.filter((getter) => getter.owner !== connection);
  }

  override [CLOSED](error: Error): void {
    const getters = this.#getters;
    this.#getters = [];
    for (const getter of getters) getter.refuse(error);
  }

  #shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head++];
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    }
    return item;
  }

  #get(owner: Owner, timeoutMs: number | undefined): Promise<T> {
    try {
      SharedQueue.#checkTimeout(timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#head < this.#items.length) return Promise.resolve(this.#shift() as T);
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const getter: Getter<T> = {
        owner,
        take: (item) => {
          if (timer !== undefined) clearTimeout(timer);
          resolve(item);
        },
        refuse: (error) => {
          if (timer !== undefined) clearTimeout(timer);
          reject(error);
        },
      };
      this.#getters.push(getter);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.#getters = this.#getters.filter((g) => g !== getter);
          reject(new TimeoutError(`No item arrived within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }
}
