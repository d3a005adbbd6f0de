/**
 * The base of the Manager's objects. An instance's only own properties are its handle, so that
 * passing it to a task (which copies it) sends the handle, and the worker gets a proxy; in the
 * parent it is the object itself, and is shared for as long as it can be reached there or from a
 * worker's proxy. Every method is async, so the same code runs on both sides.
 */
import { SHARED_KEY, type SharedKind } from './handle.js';
import { registerShared, type Connection, type SharedTarget } from './registry.js';

/** Symbol-keyed hooks: a worker's calls travel by string paths, so it can never reach these. */
export const VIEW = Symbol('mpool.view');
export const DETACHED = Symbol('mpool.detached');
export const CLOSED = Symbol('mpool.closed');

/**
 * How the registry reaches an object: through the object it is given, never one it keeps, so
 * that an object nobody refers to any more is collected (see registry.ts).
 */
const OBJECT_TARGET: SharedTarget<SharedObject> = {
  view: (object, connection) => object[VIEW](connection),
  detached: (object, connection) => object[DETACHED](connection),
};

export abstract class SharedObject {
  /** @internal The handle's id: what a copy of the object carries to a worker. */
  readonly [SHARED_KEY]: number;
  /** @internal How a worker presents the handle (see @mpool/core's shared.ts). */
  readonly kind: SharedKind;

  /** @internal */
  constructor(kind: SharedKind = 'object') {
    this.kind = kind;
    this[SHARED_KEY] = registerShared(this, OBJECT_TARGET);
  }

  /** @internal The object a given worker's calls go to; itself, unless it tracks who holds what. */
  [VIEW](_connection: Connection): object {
    return this;
  }

  /** @internal A worker's proxy to this object is gone (its task ended, or the worker): drop what it held. */
  [DETACHED](_connection: Connection): void {}

  /** @internal The manager closed: refuse whoever still waits (on a lock, on a queue). */
  [CLOSED](_error: Error): void {}
}
