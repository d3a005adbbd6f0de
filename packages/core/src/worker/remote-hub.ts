/**
 * The worker side of shared objects: turns the handles in a task's arguments into comlink proxies
 * and routes the replies to them. A proxy is counted per task that holds it and released (its
 * parent-side endpoint with it) when the last such task ends; one from `initargs` lives as long as
 * the worker.
 */
import { releaseProxy, wrap, type Endpoint } from 'comlink';
import { isSharedHandle, SHARED_KEY, type SharedHandle } from '../shared.js';

type Listener = (event: { data: unknown }) => void;

/** A comlink Endpoint for one shared object over the worker's channel. */
class FrameEndpoint {
  readonly #listeners = new Set<Listener>();
  /** Released: its task has ended. A method taken off the proxy and kept may still call. */
  closed = false;

  constructor(readonly id: number, readonly send: (id: number, data: unknown) => void) {}

  postMessage(data: unknown): void {
    // comlink posts inside the promise of the call, so this rejects that call, not the worker.
    if (this.closed) throw new Error('Proxy has been released and is not useable: its task has ended');
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

interface Held {
  readonly endpoint: FrameEndpoint;
  readonly proxy: object;
  readonly presented: unknown;
  refs: number;
}

/** What a lock handle becomes in a worker: `await using held = await lock.acquire()`. */
interface RemoteLock {
  acquire(): Promise<number>;
  release(token: number): Promise<void>;
  locked(): Promise<boolean>;
}

function presentLock(remote: RemoteLock): unknown {
  return {
    async acquire() {
      const token = await remote.acquire();
      let released = false;
      const release = async (): Promise<void> => {
        if (released) return; // as in the parent: releasing twice is harmless
        released = true;
        await remote.release(token);
      };
      return { release, [Symbol.asyncDispose]: release };
    },
    locked: () => remote.locked(),
  };
}

export class RemoteHub {
  readonly #send: (id: number, data: unknown) => void;
  readonly #held = new Map<number, Held>();

  constructor(send: (id: number, data: unknown) => void) {
    this.#send = send;
  }

  /** A reply from the pool. */
  deliver(id: number, data: unknown): void {
    this.#held.get(id)?.endpoint.dispatch(data);
  }

  /**
   * `args` with every handle among them replaced by its proxy, and the ids taken (to give back
   * with `release`); `args` itself when it holds none, which is the common case and costs a scan.
   */
  take(args: readonly unknown[], taken: number[]): readonly unknown[] {
    let out: unknown[] | undefined;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (!isSharedHandle(arg)) continue;
      out ??= args.slice();
      out[i] = this.#acquire(arg);
      taken.push(arg[SHARED_KEY]);
    }
    return out ?? args;
  }

  /** Gives back proxies taken for a task that has ended. */
  release(taken: readonly number[]): void {
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
      held = { endpoint, proxy, presented: handle.kind === 'lock' ? presentLock(proxy as unknown as RemoteLock) : proxy, refs: 0 };
      this.#held.set(id, held);
    }
    held.refs++;
    return held.presented;
  }
}
