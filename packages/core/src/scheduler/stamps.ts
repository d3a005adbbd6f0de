/**
 * When each job in the queue was submitted, in the queue's own order: a ring of doubles the job
 * queue keeps beside its ring of jobs, moved in step with it, for the wait times of
 * `pool.stats()`. A field of every Job could not hold them for free: a number that is not a small
 * integer, kept on an object, is a heap number allocated with that object. A ring of its own
 * rather than a Deque (deque.ts) over a Float64Array: the Deques of jobs on the hot path then see
 * only arrays, and their element accesses stay of one kind.
 */

/** The stamp of a job whose wait is not timed (not sampled, or timed already). */
export const NOT_TIMED = -1;

const INITIAL_CAPACITY = 16;

export class Stamps {
  #ring = new Float64Array(INITIAL_CAPACITY);
  #head = 0;
  #length = 0;

  /** A stamp for the job pushed at the back of the queue. */
  push(stamp: number): void {
    if (this.#length === this.#ring.length) this.#grow();
    this.#ring[(this.#head + this.#length) & (this.#ring.length - 1)] = stamp;
    this.#length++;
  }

  /** A stamp for the job put back at the front of the queue. */
  unshift(stamp: number): void {
    if (this.#length === this.#ring.length) this.#grow();
    this.#head = (this.#head - 1) & (this.#ring.length - 1);
    this.#ring[this.#head] = stamp;
    this.#length++;
  }

  /** The stamp of the job taken off the front of the queue. */
  shift(): number {
    if (this.#length === 0) return NOT_TIMED;
    const stamp = this.#ring[this.#head]!;
    this.#head = (this.#head + 1) & (this.#ring.length - 1);
    this.#length--;
    return stamp;
  }

  /** The queue was emptied at once. */
  clear(): void {
    this.#head = 0;
    this.#length = 0;
  }

  #grow(): void {
    const old = this.#ring;
    const ring = new Float64Array(old.length * 2);
    for (let i = 0; i < this.#length; i++) ring[i] = old[(this.#head + i) & (old.length - 1)]!;
    this.#ring = ring;
    this.#head = 0;
  }
}
