/**
 * Who waits on a shared object (for a lock, for a queue's item), oldest first: the parent, or a
 * wait of a worker's, known by its connection and the id the worker gave it (see
 * worker/presenters.ts).
 */
import { TimeoutError } from '@mpool/core';
import type { Connection } from './registry.js';

/** Who holds or waits: a worker's connection, or the parent itself. */
export type Owner = Connection | typeof PARENT;
export const PARENT = Symbol('parent');

/** A wait at the front of the line, taken off it to be given what it waited for. */
export interface Waiter<V> {
  readonly owner: Owner;
  /** The worker's id of the wait; 0 for the parent's. */
  readonly waitId: number;
  readonly resolve: (value: V) => void;
}

interface Entry<V> extends Waiter<V> {
  readonly reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

/** Checks a wait's `timeoutMs` (undefined: wait as long as it takes). */
export function checkTimeout(timeoutMs: unknown): void {
  if (timeoutMs === undefined) return;
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs)) {
    throw new TypeError(`Expected \`timeoutMs\` to be a number of milliseconds, got \`${typeof timeoutMs}\``);
  }
  if (timeoutMs < 0 || !Number.isFinite(timeoutMs)) {
    throw new RangeError(`Expected \`timeoutMs\` to be a finite number of milliseconds ≥ 0, got \`${timeoutMs}\``);
  }
}

export class Waiters<V> {
  #line: Entry<V>[] = [];

  get size(): number {
    return this.#line.length;
  }

  /**
   * Joins the line; the promise fulfils when `shift()` hands this wait a value, and rejects with
   * TimeoutError after `timeoutMs` (saying `what` did not happen; at once for 0), or when
   * `refuseAll` is called.
   */
  wait(owner: Owner, waitId: number, timeoutMs: number | undefined, what: string): Promise<V> {
    if (timeoutMs === 0) return Promise.reject(new TimeoutError(`${what} within 0 ms`));
    return new Promise<V>((resolve, reject) => {
      const entry: Entry<V> = { owner, waitId, resolve, reject, timer: undefined };
      this.#line.push(entry);
      if (timeoutMs !== undefined) {
        entry.timer = setTimeout(() => {
          this.#remove((other) => other === entry);
          reject(new TimeoutError(`${what} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  /** The oldest wait, off the line, or undefined when nobody waits. */
  shift(): Waiter<V> | undefined {
    const entry = this.#line.shift();
    if (entry !== undefined) clearTimeout(entry.timer);
    return entry;
  }

  /** Takes a worker's wait off the line, unsettled (the worker no longer listens); whether it was there. */
  cancel(owner: Owner, waitId: number): boolean {
    return this.#remove((entry) => entry.owner === owner && entry.waitId === waitId) > 0;
  }

  /** Takes every wait of `owner` off the line, unsettled. */
  dropOwner(owner: Owner): void {
    this.#remove((entry) => entry.owner === owner);
  }

  /** Rejects every wait with `error` and empties the line. */
  refuseAll(error: Error): void {
    const line = this.#line;
    this.#line = [];
    for (const entry of line) {
      clearTimeout(entry.timer);
      entry.reject(error);
    }
  }

  /** Removes the waits that match; returns how many. */
  #remove(matches: (entry: Entry<V>) => boolean): number {
    const kept: Entry<V>[] = [];
    for (const entry of this.#line) {
      if (!matches(entry)) kept.push(entry);
      else clearTimeout(entry.timer);
    }
    const removed = this.#line.length - kept.length;
    this.#line = kept;
    return removed;
  }
}
