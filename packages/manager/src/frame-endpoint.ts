/**
 * A comlink Endpoint for one shared object over a worker's side channel, on either side: the
 * parent exposes the object through one per worker that calls it, and the worker wraps one in
 * each proxy. Frames carry the object's id; the channel does the rest.
 */
type Listener = (event: { data: unknown }) => void;

export class FrameEndpoint {
  readonly #listeners = new Set<Listener>();
  /** Released: a worker's proxy whose task has ended. A method taken off the proxy and kept may still call. */
  closed = false;

  constructor(
    readonly id: number,
    readonly send: (id: number, data: unknown) => void,
  ) {}

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

  /** A frame for this object, from the other side. */
  dispatch(data: unknown): void {
    for (const listener of [...this.#listeners]) listener({ data });
  }
}
