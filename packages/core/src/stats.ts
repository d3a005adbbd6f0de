/**
 * `pool.stats()`: what a pool has done and is doing. Each fact is counted where it is known once,
 * through one `StatsCollector` the scheduler's parts share:
 *
 *   job-queue   a job submitted (its time kept beside it in the queue, stamps.ts), sent (its
 *               wait recorded), and how it ended
 *   scheduler   each RESULTS message: the busy time its worker reports (run time, utilization);
 *               a worker ready, a worker gone
 *   recovery    a worker that died when nobody asked it to (a crash)
 *   workers     a worker started in place of one that left (a replacement)
 *
 * The live counts (workers starting, busy, idle; tasks queued, running) are read when stats()
 * is called, from the queue and the worker slots, so the hot path pays nothing for them.
 *
 * Times are kept in microseconds in Node's histograms (`perf_hooks.createHistogram`, which takes
 * integers) and reported in milliseconds. Run times come from the workers' own clocks: each RESULTS
 * message says how long its worker was busy on the tasks it answers, and the tasks of one message
 * count as their average (tasks that take 2 ms or more come back one to a message, so theirs are
 * their own; tiny ones come back hundreds to a message). Wait times are the pool's own: from a
 * task's submission to its first send to a worker, for every task of a burst of submissions up to
 * TIMED_PER_BURST, then one in SAMPLE_EVERY, so that a loop of a million `applyAsync` calls does
 * not read the clock a million times.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import type { WorkerExitInfo } from './executor.js';
import type { Job } from './job.js';
import { SlotState, type Slot } from './scheduler/slot.js';
import { NOT_TIMED } from './scheduler/stamps.js';

/** A distribution of times, in milliseconds; all 0 until a task has been timed. */
export interface TimeStats {
  /** The median. */
  readonly p50: number;
  /** 90% of the times are at most this. */
  readonly p90: number;
  /** 99% of the times are at most this. */
  readonly p99: number;
  /** The longest. */
  readonly max: number;
}

/** The pool's workers now, and what has happened to them since the pool started. */
export interface WorkerStats {
  /** Workers alive: starting, busy, idle and stopping. */
  readonly total: number;
  /** Booting, or running the initializer. */
  readonly starting: number;
  /** With tasks sent to them and not yet answered. */
  readonly busy: number;
  /** Ready, with nothing to do. */
  readonly idle: number;
  /** On their way out: retiring once done (`maxtasksperchild`, `close()`), or being terminated. */
  readonly stopping: number;
  /** Workers that died when the pool had not asked them to: a crash, `process.exit()`, a signal, running out of memory. */
  readonly crashes: number;
  /** Workers started in place of one that left: after a crash, a timeout or abort, recycling by `maxtasksperchild`, the 'auto' context's move to processes. */
  readonly replacements: number;
}

/**
 * The pool's tasks, a map's chunk counting as one (as for `maxtasksperchild`). Every task submitted
 * is in exactly one of them: `queued + running + completed + failed + cancelled` is the number
 * submitted.
 */
export interface TaskStats {
  /** Waiting for a worker: what `maxQueue` bounds. */
  readonly queued: number;
  /** Sent to a worker and not answered yet (several may wait their turn on one worker). */
  readonly running: number;
  /** Ended with a result. */
  readonly completed: number;
  /** Ended with an error: the task's own, a crash, a timeout, an abort, `terminate()`. */
  readonly failed: number;
  /** Withdrawn by their call before they ended: the rest of a map that failed, an imap left early. */
  readonly cancelled: number;
}

/**
 * What `pool.stats()` returns: a snapshot, cheap to take (it walks the workers, nothing else).
 * Counts and times cover the pool's life so far. docs/operating.md says what to watch.
 * @example
 * const { tasks, waitTime, utilization } = pool.stats();
 * console.log(`${tasks.queued} queued, p99 wait ${waitTime.p99} ms, ${Math.round(utilization * 100)}% busy`);
 */
export interface PoolStats {
  /** The workers now, and their crashes and replacements so far. */
  readonly workers: WorkerStats;
  /** The tasks now (queued, running), and how those done so far ended. */
  readonly tasks: TaskStats;
  /** How long tasks ran on their workers (map chunks: the whole chunk), by the workers' clocks. */
  readonly runTime: TimeStats;
  /** How long tasks waited for a worker, from their submission to their first send. */
  readonly waitTime: TimeStats;
  /**
   * The share of the workers' time spent running tasks, from 0 to 1: their busy time over the
   * time they have been ready (started and not yet exited), since the pool started. On the
   * 'bullmq' context each worker is a lane to the cluster, whose machines may run several of its
   * tasks at once: there it may pass 1.
   */
  readonly utilization: number;
}

/** What the scheduler's parts report for the pool's listeners (events.ts), when there are any. */
export interface PoolObserver {
  workerStarted(id: number): void;
  workerExited(id: number, info: WorkerExitInfo, crashed: boolean, replaced: boolean): void;
  taskFailed(job: Job, error: unknown): void;
  /** No job waits in the queue any more. */
  drained(): void;
}

/** Every submission of a burst up to this many has its wait timed. */
const TIMED_PER_BURST = 64;
/** Beyond TIMED_PER_BURST, one submission in this many (a power of 2) is timed. */
const SAMPLE_EVERY = 16;
const MICROS_PER_MS = 1000;

/** Microseconds as the histograms take them: a whole number, at least 1. */
function micros(ms: number): number {
  return Math.max(1, Math.round(ms * MICROS_PER_MS));
}

function timeStats(histogram: RecordableHistogram): TimeStats {
  if (histogram.count === 0) return { p50: 0, p90: 0, p99: 0, max: 0 };
  return {
    p50: histogram.percentile(50) / MICROS_PER_MS,
    p90: histogram.percentile(90) / MICROS_PER_MS,
    p99: histogram.percentile(99) / MICROS_PER_MS,
    max: histogram.max / MICROS_PER_MS,
  };
}

/** The counters and histograms behind `pool.stats()`; see the file's comment for who tells it what. */
export class StatsCollector {
  #completed = 0;
  #failed = 0;
  #cancelled = 0;
  #crashes = 0;
  #replacements = 0;
  /** Milliseconds of work the workers have reported, all told. */
  #busyMs = 0;
  /** Milliseconds the workers that have exited were ready. */
  #exitedReadyMs = 0;
  readonly #runTime = createHistogram();
  readonly #waitTime = createHistogram();
  /** Submissions since the pool last dispatched. */
  #burst = 0;
  /** The pool's listeners, once something listens. */
  observer: PoolObserver | undefined;

  /** Milliseconds of work the workers have reported, all told. */
  get busyMs(): number {
    return this.#busyMs;
  }

  // ── tasks (job-queue.ts) ──────────────────────────────────────────────────────────────────────

  /**
   * A job is submitted: the time to keep beside it in the queue, when it is one of those whose
   * wait is timed (see the file's comment); NOT_TIMED otherwise.
   */
  submitted(): number {
    const n = this.#burst++;
    return n < TIMED_PER_BURST || (n & (SAMPLE_EVERY - 1)) === 0 ? performance.now() : NOT_TIMED;
  }

  /** The pool dispatches what was submitted: the next submission starts a burst. */
  dispatching(): void {
    this.#burst = 0;
  }

  /** A job goes to a worker, submitted at `stamp`: its wait is recorded, when it is timed. */
  sent(stamp: number): void {
    if (stamp !== NOT_TIMED) this.#waitTime.record(micros(performance.now() - stamp));
  }

  completed(): void {
    this.#completed++;
  }

  failed(job: Job, error: unknown): void {
    this.#failed++;
    this.observer?.taskFailed(job, error);
  }

  cancelled(): void {
    this.#cancelled++;
  }

  /** The queue has no job waiting any more. */
  drained(): void {
    this.observer?.drained();
  }

  // ── workers (scheduler, recovery.ts, workers.ts) ──────────────────────────────────────────────

  /** A worker answered `jobs` jobs, having been busy `busyMs` on them. */
  answered(busyMs: number, jobs: number): void {
    this.#busyMs += busyMs;
    if (busyMs > 0 && jobs > 0) this.#runTime.record(micros(busyMs / jobs));
  }

  /** `slot`'s worker is ready: its ready time starts. */
  ready(slot: Slot): void {
    slot.readyAt = performance.now();
    this.observer?.workerStarted(slot.handle.id);
  }

  /** `slot`'s worker has exited: its ready time is over. */
  exited(slot: Slot, info: WorkerExitInfo, crashed: boolean, replaced: boolean): void {
    if (slot.readyAt >= 0) this.#exitedReadyMs += performance.now() - slot.readyAt;
    this.observer?.workerExited(slot.handle.id, info, crashed, replaced);
  }

  crashed(): void {
    this.#crashes++;
  }

  replaced(): void {
    this.#replacements++;
  }

  // ── the snapshot ──────────────────────────────────────────────────────────────────────────────

  /** `pool.stats()`: the counts so far, and the live ones from the queue's counts and the workers. */
  snapshot(slots: Iterable<Slot>, queued: number, pending: number): PoolStats {
    const now = performance.now();
    let starting = 0;
    let busy = 0;
    let idle = 0;
    let stopping = 0;
    let readyMs = this.#exitedReadyMs;
    for (const slot of slots) {
      if (slot.readyAt >= 0) readyMs += now - slot.readyAt;
      if (slot.state === SlotState.Starting) starting++;
      else if (slot.state !== SlotState.Ready) stopping++;
      else if (slot.inFlight.length > 0) busy++;
      else idle++;
    }
    return {
      workers: { total: starting + busy + idle + stopping, starting, busy, idle, stopping, crashes: this.#crashes, replacements: this.#replacements },
      tasks: { queued, running: pending - queued, completed: this.#completed, failed: this.#failed, cancelled: this.#cancelled },
      runTime: timeStats(this.#runTime),
      waitTime: timeStats(this.#waitTime),
      utilization: readyMs > 0 ? this.#busyMs / readyMs : 0,
    };
  }
}
