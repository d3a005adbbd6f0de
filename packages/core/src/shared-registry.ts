/**
 * The parent side of shared objects: which objects are exposed, by id, and one Connection per
 * worker that answers that worker's calls with comlink's `expose`.
 */
import { expose, type Endpoint } from 'comlink';
import { ManagerClosedError } from './errors.js';

/** An exposed object, as its owner (a Manager) registers it. */
export interface SharedTarget {
  /** The object a given worker's calls go to (a lock gives each worker its own view). */
  view(connection: Connection): object;
  /**
   * The worker behind `connection` has no proxy to the object any more: the tasks that held one
   * ended and it was released, or the worker is gone (or being stopped). Drop what it held or
   * waited for through it (a lock, a queue's get).
   */
  detached?(connection: Connection): void;
}

const targets = new Map<number, SharedTarget>();
let nextId = 1;

/** Exposes `target` to workers; returns the id its handles carry. */
export function registerShared(target: SharedTarget): number {
  const id = nextId++;
  targets.set(id, target);
  return id;
}

/** Stops exposing an object: calls on its proxies reject from now on. */
export function unregisterShared(id: number): void {
  targets.delete(id);
}

type Listener = (event: { data: unknown }) => void;

/** The type of comlink's message that ends a proxy (`releaseProxy`), as its wire format names it. */
const RELEASE = 'RELEASE';

function isRelease(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { type?: unknown }).type === RELEASE;
}

/** A comlink Endpoint for one object on one worker's channel. */
class FrameEndpoint {
  readonly #listeners = new Set<Listener>();

  constructor(
    readonly id: number,
    readonly send: (id: number, data: unknown) => void,
  ) {}

  postMessage(data: unknown): void {
    this.send(this.id, data);
  }

  addEventListener(_type: string, listener: Listener): void {
    this.#listeners.add(listener);
  }

  removeEventListener(_type: string, listener: Listener): void {
    this.#listeners.delete(listener);
  }

  dispatch(data: unknown): void {
    for (const listener of [...this.#listeners]) listener({ data });
  }
}

/**
 * Calls reach the live object through this, looked up on every call, so that an object whose
 * manager has closed answers every call with an error instead of serving it.
 */
function liveView(id: number, connection: Connection): object {
  const resolve = (): object => {
    const target = targets.get(id);
    if (target === undefined) throw new ManagerClosedError(`The shared object ${id} is no longer available: its manager was closed`);
    return target.view(connection);
  };
  const forward = (view: object, value: unknown): unknown => (typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(view) : value);
  return new Proxy(function sharedObject() {}, {
    get: (_fn, prop) => {
      const view = resolve();
      return forward(view, Reflect.get(view, prop));
    },
    set: (_fn, prop, value) => Reflect.set(resolve(), prop, value),
    apply: (_fn, thisArg, args) => Reflect.apply(resolve() as (...a: unknown[]) => unknown, thisArg, args),
  });
}

/** The shared-object calls of one worker. */
export class Connection {
  readonly #send: (id: number, data: unknown) => void;
  /** One for each object the worker has a proxy to and has called through it. */
  readonly #endpoints = new Map<number, FrameEndpoint>();
  #closed = false;

  constructor(send: (id: number, data: unknown) => void) {
    this.#send = send;
  }

  /** A frame from the worker. */
  deliver(id: number, data: unknown): void {
    if (this.#closed) return;
    let endpoint = this.#endpoints.get(id);
    if (isRelease(data)) {
      // The worker's proxy is gone (a proxy it never called through has no endpoint to end).
      // Handled now, not once comlink has answered: the frames of the worker's next task, through
      // a new proxy to the same object, may come right behind.
      if (endpoint === undefined) return;
      this.#endpoints.delete(id);
      targets.get(id)?.detached?.(this);
    } else if (endpoint === undefined) {
      endpoint = new FrameEndpoint(id, this.#send);
      this.#endpoints.set(id, endpoint);
      expose(liveView(id, this), endpoint as unknown as Endpoint);
    }
    endpoint.dispatch(data);
  }

  /** Number of objects this worker currently holds proxies to. */
  get openEndpoints(): number {
    return this.#endpoints.size;
  }

  /**
   * The worker is gone, or being stopped: its later frames are ignored, and the objects it had
   * proxies to drop what it held.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const ids = [...this.#endpoints.keys()];
    this.#endpoints.clear();
    for (const id of ids) targets.get(id)?.detached?.(this);
  }
}
