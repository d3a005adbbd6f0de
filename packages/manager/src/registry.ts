/**
 * The parent side of shared objects: which objects are exposed, by id, and one Connection per
 * worker that answers that worker's calls with comlink's `expose`. The Manager is a worker plugin
 * of @mpool/core (its plugins.ts): registered with the first shared object, its worker half
 * (worker/index.ts) loaded in every worker from then on, and a Connection opened for each worker
 * that calls a shared object, on that worker's side channel.
 *
 * An object stays exposed while something can still reach it: its handle in the parent (held
 * here only weakly), or a worker's proxy (while any worker has one, the handle is held strongly).
 * Between the two, a task's arguments hold the handle until its result comes. Once neither is
 * left, the handle is collected and its entry goes with it.
 */
import { join } from 'node:path';
import { registerWorkerPlugin, type SideChannel, type SidePeer, type WorkerPlugin } from '@mpool/core';
import { expose, type Endpoint } from 'comlink';
import { ManagerClosedError } from './errors.js';
import { FrameEndpoint } from './frame-endpoint.js';
import { isSharedHandle } from './handle.js';

/**
 * An exposed object, as its owner (a Manager) registers it with its handle. It must not refer to
 * the handle itself, or the handle would never be collected: the handle is passed to each call.
 */
export interface SharedTarget<H extends object = object> {
  /** The object a given worker's calls go to (a lock gives each worker its own view). */
  view(handle: H, connection: Connection): object;
  /**
   * The worker behind `connection` has no proxy to the object any more: the tasks that held one
   * ended and it was released, or the worker is gone (or being stopped). Drop what it held or
   * waited for through it (a lock, a queue's get).
   */
  detached?(handle: H, connection: Connection): void;
}

interface Entry {
  readonly handle: WeakRef<object>;
  readonly target: SharedTarget;
  /** The handle, held while `attached` > 0. */
  pinned: object | undefined;
  /** Connections that have an endpoint for it: workers with a proxy they have called through. */
  attached: number;
}

const entries = new Map<number, Entry>();
/** Forgets the entry of a handle nothing refers to any more. */
const collected = new FinalizationRegistry<number>((id) => entries.delete(id));
let nextId = 1;

/**
 * Exposes `target` to workers for as long as `handle` (what the parent's code holds and passes
 * to tasks) can be reached, or a worker has a proxy to it; returns the id its copies carry.
 */
export function registerShared<H extends object>(handle: H, target: SharedTarget<H>): number {
  registerWorkerPlugin(MANAGER_PLUGIN);
  const id = nextId++;
  const entry: Entry = { handle: new WeakRef(handle), target: target as SharedTarget, pinned: undefined, attached: 0 };
  entries.set(id, entry);
  // No unregister token: V8 keeps the table of tokens at its largest size for good. An id
  // unregistered before its handle is collected is simply deleted twice; ids are never reused.
  collected.register(handle, id);
  return id;
}

/** Stops exposing an object: calls on its proxies reject from now on. */
export function unregisterShared(id: number): void {
  entries.delete(id);
}

/** The handle of an exposed object, or undefined once it is unregistered or collected. */
function handleOf(entry: Entry | undefined): object | undefined {
  return entry === undefined ? undefined : (entry.pinned ?? entry.handle.deref());
}

/** A worker has called object `id` through a new proxy: keep it while the proxy lives. */
function attach(id: number): void {
  const entry = entries.get(id);
  if (entry !== undefined && entry.attached++ === 0) entry.pinned = entry.handle.deref();
}

/** A worker's proxy to object `id` is gone. */
function detach(id: number, connection: Connection): void {
  const entry = entries.get(id);
  if (entry === undefined) return;
  const handle = handleOf(entry);
  if (handle !== undefined) entry.target.detached?.(handle, connection);
  if (--entry.attached === 0) entry.pinned = undefined;
}

/** The type of comlink's message that ends a proxy (`releaseProxy`), as its wire format names it. */
const RELEASE = 'RELEASE';

function isRelease(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { type?: unknown }).type === RELEASE;
}

/**
 * Calls reach the live object through this, looked up on every call, so that an object whose
 * manager has closed answers every call with an error instead of serving it.
 */
function liveView(id: number, connection: Connection): object {
  const resolve = (): object => {
    const entry = entries.get(id);
    const handle = handleOf(entry);
    if (entry === undefined || handle === undefined) throw new ManagerClosedError(`The shared object ${id} is no longer available: its manager was closed`);
    return entry.target.view(handle, connection);
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

/** The shared-object calls of one worker: the Manager plugin's peer on that worker's side channel. */
export class Connection implements SidePeer {
  readonly #send: (id: number, data: unknown) => void;
  /** One for each object the worker has a proxy to and has called through it. */
  readonly #endpoints = new Map<number, FrameEndpoint>();
  #closed = false;

  constructor(channel: SideChannel) {
    this.#send = (id, data) => channel.send(id, data);
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
      detach(id, this);
    } else if (endpoint === undefined) {
      endpoint = new FrameEndpoint(id, this.#send);
      this.#endpoints.set(id, endpoint);
      attach(id);
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
    for (const id of ids) detach(id, this);
  }
}

/** The Manager as a worker plugin: its worker half, and a Connection for each worker that calls. */
const MANAGER_PLUGIN: WorkerPlugin = {
  workerModule: join(__dirname, 'worker', 'index.js'),
  open: (channel) => new Connection(channel),
  isHandle: isSharedHandle,
};
