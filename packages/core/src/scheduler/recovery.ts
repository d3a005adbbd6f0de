/**
 * What the pool does when something goes wrong with a worker: a worker that exits with jobs
 * unanswered (its last word says which it never started: those go back unblamed; without one,
 * the suspects run again, one by one), a job past its timeout or withdrawn while it
 * runs alone (its worker is terminated), a worker that cannot be sent anything any more (its
 * jobs go back to the queue), a job the pool's fallback can run where this worker cannot, and
 * workers that fail to start (after STARTUP_FAILURE_LIMIT in a row the pool is broken).
 *
 * A job whose payload moved memory to its worker (`transfer()`; the codec's `sendsOnce`) is never
 * sent again: what it moved went with that worker. It fails instead of running again.
 */
import { decodeThrown } from '../error-codec.js';
import { InitializerError, TimeoutError, WorkerCrashedError } from '../errors.js';
import { describeExit, messageOf } from '../exit-info.js';
import type { WorkerExitInfo, WorkerLastWord } from '../executor.js';
import { JobState, type Job } from '../job.js';
import type { StatsCollector } from '../stats.js';
import { ResultStatus, type ChunkFailure, type WireThrown } from '../wire.js';
import type { JobQueue } from './job-queue.js';
import { SlotState, type Slot } from './slot.js';
import type { Workers } from './workers.js';

/** After this many workers in a row fail to start, the pool stops trying: the cause is not luck. */
const STARTUP_FAILURE_LIMIT = 3;

export class Recovery {
  readonly #queue: JobQueue;
  readonly #workers: Workers;
  /** Milliseconds a worker's initializer may run before its start counts as failed. */
  readonly #startTimeoutMs: number;
  readonly #stats: StatsCollector;
  #broken: InitializerError | undefined;
  #startupFailures = 0;

  constructor(queue: JobQueue, workers: Workers, startTimeoutMs: number, stats: StatsCollector) {
    this.#queue = queue;
    this.#workers = workers;
    this.#startTimeoutMs = startTimeoutMs;
    this.#stats = stats;
  }

  /** Why the pool cannot run work any more, when its workers could not start. */
  get broken(): InitializerError | undefined {
    return this.#broken;
  }

  // ── starting ──────────────────────────────────────────────────────────────────────────────────

  /** A worker's initializer starts: its time starts, when the pool has a `timeout`. */
  initializing(slot: Slot): void {
    if (slot.state !== SlotState.Starting || this.#startTimeoutMs === Infinity || slot.startTimer !== undefined) return;
    // Unreferenced: a start nobody waits for must not keep the program alive.
    slot.startTimer = setTimeout(() => this.#startTimedOut(slot), this.#startTimeoutMs).unref();
  }

  /** A worker started: the failures in a row are over. */
  started(slot: Slot): void {
    slot.clearStartTimer();
    this.#startupFailures = 0;
  }

  /** A worker's initializer threw (INIT_FAILED): the pool moves to its fallback, or counts a failed start. */
  initFailed(slot: Slot, error: unknown): void {
    slot.clearStartTimer();
    if (this.#workers.fallbackTakes(slot, error)) {
      this.#workers.moveToFallback(error);
      this.#workers.terminate(slot);
    } else {
      this.#startupFailed(slot, error);
    }
  }

  /** A worker's initializer ran past the pool's timeout: a failed start, like one that threw. */
  #startTimedOut(slot: Slot): void {
    slot.startTimer = undefined;
    if (slot.state !== SlotState.Starting) return;
    this.#startupFailed(slot, new TimeoutError(`A worker's initializer ran past the pool's timeout of ${this.#startTimeoutMs} ms; the worker was stopped`));
  }

  #startupFailed(slot: Slot, error: unknown): void {
    this.#workers.terminate(slot);
    if (++this.#startupFailures < STARTUP_FAILURE_LIMIT || this.#broken !== undefined) return;
    this.#broken = new InitializerError(`mpool's workers could not start (${STARTUP_FAILURE_LIMIT} failed in a row): ${messageOf(error)}`, { cause: error });
    this.failAll(this.#broken);
  }

  // ── jobs that run alone ───────────────────────────────────────────────────────────────────────

  /** `job`, which runs alone on `slot`, was sent: its clock starts, when it has a timeout. */
  startClock(slot: Slot, job: Job): void {
    if (job.timeoutMs !== Infinity) job.timer = setTimeout(() => this.#timedOut(slot, job), job.timeoutMs);
  }

  /** A job ran past its timeout: it fails, and its worker, which may never return, is replaced. */
  #timedOut(slot: Slot, job: Job): void {
    job.timer = undefined;
    if (job.state !== JobState.Running || slot.inFlight.peek() !== job) return;
    this.cutShort(slot, job, new TimeoutError(`The task ran past its timeout of ${job.timeoutMs} ms; its worker was stopped and will be replaced`));
  }

  /**
   * Ends `job`, which runs alone on `slot`, and terminates its worker: the job fails with
   * `error`, or, without one, it was withdrawn and its owner settles it.
   */
  cutShort(slot: Slot, job: Job, error: Error | undefined): void {
    slot.takeOldest();
    if (error === undefined) this.#queue.withdraw(job);
    this.#queue.fail(job, error);
    this.#workers.terminate(slot);
  }

  // ── workers going ─────────────────────────────────────────────────────────────────────────────

  /**
   * `slot`'s worker cannot be sent anything any more (WorkerGoneError): `jobs`, which never reached
   * it, go back to the front of the queue, not counted against it; but where the failed send had
   * taken the buffers they moved (`buffersTaken`), those jobs fail, with nothing left to send. The
   * worker gets no more work, and is terminated once it has answered what it has (unless its exit
   * comes first, as after any crash).
   */
  workerGone(slot: Slot, jobs: readonly Job[], buffersTaken: boolean): void {
    const again: Job[] = [];
    for (const job of jobs) {
      if (buffersTaken && slot.codec.sendsOnce(job.mode, job.payload)) this.#queue.fail(job, new WorkerCrashedError('The worker this task was sent to was gone before it got it; the buffers this task moved to it (transfer()) went with the message, so it does not run again', EXIT_NOT_SEEN));
      else again.push(job);
    }
    this.#queue.requeue(again);
    slot.quota = 0;
    if (slot.inFlight.length === 0) {
      slot.isolating = false;
      this.#workers.terminate(slot);
    }
  }

  /**
   * A worker has exited (and is forgotten): a failed start, a crash with jobs unanswered, or an
   * idle worker gone when nobody asked it to (a warning). Returns whether it crashed: it exited
   * when the pool had not asked it to.
   */
  exited(slot: Slot, info: WorkerExitInfo): boolean {
    const answered = slot.answered;
    const jobs = slot.takeAll();
    const expected = slot.state === SlotState.Terminating || (slot.state === SlotState.Retiring && jobs.length === 0);
    if (!expected) this.#stats.crashed();
    if (slot.state === SlotState.Starting) {
      this.#startupFailed(slot, info.error ?? new Error(`A worker exited during start-up (${describeExit(info)})`));
    } else if (jobs.length > 0) {
      this.#recoverJobs(slot, jobs, info, answered);
    } else if (!expected) {
      process.emitWarning(`An idle mpool worker exited unexpectedly (${describeExit(info)})${info.error === undefined ? '' : `: ${messageOf(info.error)}`}`, { code: 'MPOOL_WORKER_EXITED' });
    }
    return !expected;
  }

  /**
   * A worker died with `jobs` unanswered, after answering `answered` others. Its last word, when
   * it left one, says which of them it never started. A worker that started no task at all said
   * nothing of use: what ended it came with its start, or with the message that brought its first
   * tasks (a payload that ran it out of memory as it was read), so its jobs are suspects. Those
   * of its jobs that are to run again but moved buffers to it fail instead (#runAgain).
   */
  #recoverJobs(slot: Slot, jobs: Job[], info: WorkerExitInfo, answered: number): void {
    const word = info.lastWord;
    if (word !== undefined && word.started !== 0) this.#recoverByLastWord(slot, jobs, info, word, answered);
    else this.#recoverSuspects(slot, jobs, info);
  }

  /**
   * Without a last word (SIGKILL, a V8 abort): with one job unanswered, that job killed the worker.
   * With several, results of finished ones may be lost with it and which one killed it is unknown,
   * so all run again, each alone: a job that kills its worker when alone is the culprit.
   */
  #recoverSuspects(slot: Slot, jobs: Job[], info: WorkerExitInfo): void {
    const first = jobs[0]!;
    if (jobs.length === 1 || first.alone) {
      this.#crashed(first, info);
      jobs = jobs.slice(1);
    } else {
      for (const job of jobs) job.runAloneFromNowOn();
    }
    this.#runAgain(slot, jobs, info);
  }

  /**
   * With a last word. The worker runs its jobs in the order sent, so of those unanswered the
   * oldest `begun` had started. The one still running killed the worker: it fails, whatever else
   * was in flight. Those before it finished, but their results died with the worker: they run
   * again. Those after it never started: they go back to the front of the queue, unblamed.
   * With none running, the worker died between tasks, of something a finished one left behind (a
   * timer): the finished ones whose results were lost run again each alone, as suspects (one that
   * ran alone already is the one, as without a word).
   */
  #recoverByLastWord(slot: Slot, jobs: Job[], info: WorkerExitInfo, word: WorkerLastWord, answered: number): void {
    // Modulo 2^32, as the count may wrap (a few in flight, never near 2^31 apart). A job cut short
    // is answered already: the task the worker still ran is then none of these.
    const begun = Math.min(Math.max((word.started - answered) | 0, 0), jobs.length);
    const finished = word.running && begun > 0 ? begun - 1 : begun;
    if (finished < begun) {
      this.#crashed(jobs[finished]!, info);
    } else if (finished > 0 && jobs[0]!.alone) {
      this.#crashed(jobs[0]!, info);
      jobs = jobs.slice(1);
    } else {
      for (let i = 0; i < finished; i++) jobs[i]!.runAloneFromNowOn();
    }
    this.#runAgain(slot, finished < begun ? [...jobs.slice(0, finished), ...jobs.slice(begun)] : jobs, info);
  }

  /** `job` killed its worker: it fails with WorkerCrashedError, the worker's own error as its cause. */
  #crashed(job: Job, info: WorkerExitInfo): void {
    this.#queue.fail(job, crashError(`The worker running this task died (${describeExit(info)})`, info));
  }

  /**
   * Jobs `slot`'s dead worker left unanswered go back to the front of the queue, but those
   * withdrawn, and those whose payload moved buffers to it (started or not): those buffers went
   * with it, and there is nothing left to send again.
   */
  #runAgain(slot: Slot, jobs: readonly Job[], info: WorkerExitInfo): void {
    const again: Job[] = [];
    for (const job of jobs) {
      // A withdrawn job is over: its result, if it came, is lost with its worker anyway.
      if (job.state === JobState.Cancelled) this.#queue.fail(job, undefined);
      else if (slot.codec.sendsOnce(job.mode, job.payload)) this.#queue.fail(job, crashError(`The worker this task was sent to died (${describeExit(info)}) before it answered; the buffers this task moved to it (transfer()) went with it, so it does not run again`, info));
      else again.push(job);
    }
    this.#queue.requeue(again);
  }

  /**
   * Whether `job` failed on `slot` with an error its worker's kind cannot get past but the
   * fallback's can (the 'auto' context): then the pool moves, and the job goes back to the head
   * of the queue to run on the fallback's workers. A chunk runs again whole, the items before the
   * one that failed included: the results those gave on the first worker are dropped. A job that
   * moved buffers to its worker does not run again: the pool moves, and it fails with its error.
   */
  runsOnFallback(slot: Slot, job: Job, status: ResultStatus, value: unknown): boolean {
    if (!slot.beforeFallback || job.state === JobState.Cancelled) return false;
    let thrown: WireThrown;
    if (status === ResultStatus.Threw) thrown = value as WireThrown;
    else if (status === ResultStatus.ChunkThrew) thrown = (value as ChunkFailure)[2];
    else return false;
    const error = decodeThrown(thrown);
    if (!this.#workers.fallbackTakes(slot, error)) return false;
    this.#workers.moveToFallback(error);
    // The buffers it moved (transfer()) stayed in the worker: it fails with its own error.
    if (slot.codec.sendsOnce(job.mode, job.payload)) return false;
    this.#queue.requeue([job]);
    return true;
  }

  /** Fails every pending job with `error`: those queued, and those in flight on every worker. */
  failAll(error: Error): void {
    for (const job of this.#queue.drain()) this.#queue.fail(job, error);
    for (const slot of this.#workers.slots) {
      for (const job of slot.takeAll()) this.#queue.fail(job, error);
    }
  }
}

/** A WorkerCrashedError that says `what` happened, then the worker's own error, its cause. */
/** The exit of a worker that was gone when a task was sent to it, before the pool saw how it ended. */
const EXIT_NOT_SEEN = { code: null, signal: null } as const;

function crashError(what: string, info: WorkerExitInfo): WorkerCrashedError {
  const cause = info.error;
  return new WorkerCrashedError(`${what}${cause === undefined ? '' : `: ${messageOf(cause)}`}`, info, cause === undefined ? undefined : { cause });
}
