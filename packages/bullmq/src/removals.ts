/**
 * Finished jobs of a pool, removed from Redis together: each removal is a script Redis runs, and
 * done at once it delays the next job (measured: 0.3 to 0.5 ms a round trip for tasks one at a
 * time). The timer keeps the program alive until the jobs are gone.
 */
import type { Queue } from 'bullmq';

/** Finished jobs are removed together, this long after the first of them. */
const REMOVAL_DELAY_MS = 500;

/** The finished jobs of one pool's queue waiting to be removed, and the removals under way. */
export class Removals {
  readonly #queue: Queue;
  /** Jobs to remove at the next flush. */
  #ids: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #removing = new Set<Promise<void>>();

  constructor(queue: Queue) {
    this.#queue = queue;
  }

  /** Removes job `id`, with the others finished within REMOVAL_DELAY_MS. */
  add(id: string): void {
    if (this.#ids.length === 0) this.#timer = setTimeout(() => this.flush(), REMOVAL_DELAY_MS);
    this.#ids.push(id);
  }

  /** Starts removing the jobs waiting to be removed; resolves once every removal under way has ended. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    for (const id of this.#ids.splice(0)) {
      const removing = this.#queue.remove(id).then(() => undefined, () => undefined);
      this.#removing.add(removing);
      void removing.finally(() => this.#removing.delete(removing));
    }
    return Promise.all([...this.#removing]).then(() => undefined);
  }
}
