/**
 * The base of the Manager's objects. An instance's only own properties are its handle, so that
 * passing it to a task (which copies it) sends the handle, and the worker gets a proxy; in the
 * parent it is the object itself. Every method is async, so the same code runs on both sides.
 */
import { registerShared, SHARED_KEY, type Connection, type SharedKind } from '@mpool/core';

/** Symbol-keyed hooks: a worker's calls travel by string paths, so it can never reach these. */
export const VIEW = Symbol('mpool.view');
export const DETACHED = Symbol('mpool.detached');
export const CLOSED = Symbol('mpool.closed');

export abstract class SharedObject {
  readonly [SHARED_KEY]: number;
  readonly kind: SharedKind;

  constructor(kind: SharedKind = 'object') {
    this.kind = kind;
    this[SHARED_KEY] = registerShared({
      view: (connection) => this[VIEW](connection),
      detached: (connection) => this[DETACHED](connection),
    });
  }

  /** The object a given worker's calls go to; itself, unless it tracks who holds what. */
  [VIEW](_connection: Connection): object {
    return this;
  }

  /** A worker's proxy to this object is gone (its task ended, or the worker): drop what it held. */
  [DETACHED](_connection: Connection): void {}

  /** The manager closed: refuse whoever still waits (on a lock, on a queue). */
  [CLOSED](_error: Error): void {}
}
