/**
 * The worker side of shared objects, as the Manager's worker plugin: turns the handles in a
 * task's arguments into comlink proxies and routes the replies to them. A proxy is counted per
 * task that holds it and released (its parent-side endpoint with it) when the last such task
 * ends; one from `initargs` lives as long as the worker. The run loop says when each task begins
 * and ends, so that what a task leaves waiting or held is let go with it (see task-scope.ts).
 */
import type { PluginPort, WorkerPluginHalf } from '@mpool/core/worker';
import { releaseProxy, wrap, type Endpoint } from 'comlink';
import { FrameEndpoint } from '../frame-endpoint.js';
import { isSharedHandle, SHARED_KEY, type SharedHandle } from '../handle.js';
import { presentLock, presentQueue, type RemoteLock, type RemoteQueue } from './presenters.js';
import { TaskScope, WORKER_SCOPE } from './task-scope.js';

interface Held {
  readonly endpoint: FrameEndpoint;
  readonly proxy: object;
  readonly presented: unknown;
  refs: number;
}

export class RemoteHub implements WorkerPluginHalf {
  readonly #send: (id: number, data: unknown) => void;
  readonly #held = new Map<number, Held>();
  /** The running task's scope, made when it first waits; undefined between tasks. */
  #scope: TaskScope | undefined;
  #inTask = false;
  /** Ids of the shared objects the running task took, to give back when it ends. */
  readonly #taken: number[] = [];
  readonly #currentScope = (): TaskScope => (this.#inTask ? (this.#scope ??= new TaskScope(true)) : WORKER_SCOPE);

  constructor(port: PluginPort) {
    this.#send = (id, data) => port.send(id, data);
  }

  /** A reply from the pool. */
  deliver(id: number, data: unknown): void {
    this.#held.get(id)?.endpoint.dispatch(data);
  }

  /**
   * `args` with every handle among them replaced by its proxy; `args` itself when it holds none,
   * which is the common case and costs a scan. Within a task, the proxies are the task's, given
   * back when it ends; outside any (the initializer's arguments) they last as long as the worker.
   */
  present(args: readonly unknown[]): readonly unknown[] {
    let out: unknown[] | undefined;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (!isSharedHandle(arg)) continue;
      out ??= args.slice();
      out[i] = this.#acquire(arg);
      if (this.#inTask) this.#taken.push(arg[SHARED_KEY]);
    }
    return out ?? args;
  }

  /** A task begins: its calls on shared objects belong to it until `endTask`. */
  beginTask(): void {
    this.#inTask = true;
  }

  /**
   * The task has ended: lets go of what it left waiting or held, then gives back the proxies it
   * took, in that order, so that the parent hears of both before the release.
   */
  endTask(): void {
    this.#inTask = false;
    const scope = this.#scope;
    this.#scope = undefined;
    scope?.end();
    if (this.#taken.length > 0) {
      this.#release(this.#taken);
      this.#taken.length = 0;
    }
  }

  #release(taken: readonly number[]): void {
    for (const id of taken) {
      const held = this.#held.get(id);
      if (held === undefined || --held.refs > 0) continue;
      this.#held.delete(id);
      (held.proxy as { [releaseProxy](): void })[releaseProxy]();
      held.endpoint.closed = true;
    }
  }

  #acquire(handle: SharedHandle): unknown {
    const id = handle[SHARED_KEY];
    let held = this.#held.get(id);
    if (held === undefined) {
      const endpoint = new FrameEndpoint(id, this.#send);
      const proxy = wrap(endpoint as unknown as Endpoint) as unknown as object;
      held = { endpoint, proxy, presented: this.#present(handle, proxy), refs: 0 };
      this.#held.set(id, held);
    }
    held.refs++;
    return held.presented;
  }

  #present(handle: SharedHandle, proxy: object): unknown {
    switch (handle.kind) {
      case 'lock':
        return presentLock(proxy as unknown as RemoteLock, this.#currentScope);
      case 'queue':
        return presentQueue(proxy as unknown as RemoteQueue, this.#currentScope);
      default:
        return proxy;
    }
  }
}
