/**
 * The pool's jobs from submission to their end: the queue of those waiting for a worker, the
 * weight of that queue (its items), how many jobs are queued and pending, and every job's state
 * (job.ts), which nothing else changes. The end of a job is written once, here (`#end`), and
 * counted for the pool's stats (stats.ts): completed, failed or cancelled.
 *
 * A job withdrawn while queued is done at once but stays in the queue until the sender meets it
 * (`next`), which drops it: a deque cannot remove from its middle cheaply.
 */
import { Deque } from '../deque.js';
import { JobState, type Job } from '../job.js';
import type { StatsCollector } from '../stats.js';
import { NOT_TIMED, Stamps } from './stamps.js';

export class JobQueue {
  readonly #queue = new Deque<Job>();
  /** When each job of #queue was submitted, for those whose wait is timed (stamps.ts). */
  readonly #stamps = new Stamps();
  /** Items in the queued jobs that are still to run. */
  #weight = 0;
  /** Jobs submitted and not yet done: queued, or in flight (withdrawn in-flight ones included). */
  #pending = 0;
  /** Jobs waiting for a worker: in the queue and not withdrawn. */
  #queued = 0;
  readonly #stats: StatsCollector;
  readonly #onIdle: () => void;

  /** `onIdle` is called whenever the last pending job is done. */
  constructor(stats: StatsCollector, onIdle: () => void) {
    this.#stats = stats;
    this.#onIdle = onIdle;
  }

  /** Jobs in the queue, withdrawn ones not yet dropped included. */
  get length(): number {
    return this.#queue.length;
  }

  /** Items in the queued jobs that are still to run. */
  get weight(): number {
    return this.#weight;
  }

  /** Jobs submitted and not yet done. */
  get pending(): number {
    return this.#pending;
  }

  /** Jobs waiting for a worker (withdrawn ones not counted). */
  get queued(): number {
    return this.#queued;
  }

  /** A new job, at the back of the queue. */
  push(job: Job): void {
    this.#queue.push(job);
    this.#stamps.push(this.#stats.submitted());
    this.#weight += job.weight;
    this.#pending++;
    this.#queued++;
  }

  /**
   * Jobs that were taken and are to be sent again (they never reached their worker, it died, or
   * the pool moved to its fallback), at the front of the queue, in their order. Their clocks
   * stop: they start again when the jobs are sent again.
   */
  requeue(jobs: readonly Job[]): void {
    for (let i = jobs.length - 1; i >= 0; i--) {
      const job = jobs[i]!;
      clearTimer(job);
      job.state = JobState.Queued;
      this.#queue.unshift(job);
      this.#stamps.unshift(NOT_TIMED); // its wait was timed when it was first sent
      this.#weight += job.weight;
      this.#queued++;
    }
  }

  /** The job at the head of the queue, as it is (withdrawn or not); undefined when it is empty. */
  peek(): Job | undefined {
    return this.#queue.peek();
  }

  /** The next job to send, the withdrawn ones before it dropped; undefined when there is none. */
  next(): Job | undefined {
    let job = this.#queue.peek();
    while (job !== undefined && job.state !== JobState.Queued) {
      this.#queue.shift();
      this.#stamps.shift();
      job = this.#queue.peek();
    }
    return job;
  }

  /** Takes the job that `next()` returned off the queue: it runs now. */
  take(): Job {
    const job = this.#queue.shift() as Job;
    this.#weight -= job.weight;
    job.state = JobState.Running;
    this.#stats.sent(this.#stamps.shift());
    if (--this.#queued === 0) this.#stats.drained();
    return job;
  }

  /**
   * Withdraws a job for its owner, who settles its own result: a queued one is done and never
   * runs; a running one's result is dropped when it comes.
   */
  withdraw(job: Job): void {
    if (job.state === JobState.Queued) {
      this.#end(job);
      this.#stats.cancelled();
    } else if (job.state === JobState.Running) {
      job.state = JobState.Cancelled;
    }
  }

  /** A running job was answered with its result: it is done. Returns whether to tell its owner (not withdrawn). */
  complete(job: Job): boolean {
    const tell = this.#end(job);
    if (tell) this.#stats.completed();
    else this.#stats.cancelled();
    return tell;
  }

  /**
   * Fails a job with `error` (its own, or its worker's end), telling its owner unless it withdrew
   * it; `before` holds the results of a chunk's items before the one that failed.
   */
  fail(job: Job, error: unknown, before?: readonly unknown[]): void {
    if (job.state === JobState.Done) return;
    if (this.#end(job)) {
      this.#stats.failed(job, error);
      job.owner.jobFailed(job, error, before);
    } else {
      this.#stats.cancelled();
    }
  }

  /** Takes every job off the queue; returns those still to run, in order. */
  drain(): Job[] {
    this.#stamps.clear();
    return this.#queue.drain().filter((job) => job.state === JobState.Queued);
  }

  /** The end of a job: done, its payload and timer let go; whether its owner is still to be told. */
  #end(job: Job): boolean {
    const tell = job.state !== JobState.Cancelled;
    const wasQueued = job.state === JobState.Queued;
    if (wasQueued) this.#weight -= job.weight;
    job.state = JobState.Done;
    job.payload = undefined;
    clearTimer(job);
    if (wasQueued && --this.#queued === 0) this.#stats.drained();
    if (--this.#pending === 0) this.#onIdle();
    return tell;
  }
}

function clearTimer(job: Job): void {
  if (job.timer !== undefined) {
    clearTimeout(job.timer);
    job.timer = undefined;
  }
}
