/**
 * The scheduler: keeps the pool's workers alive, feeds them jobs from one queue, hands results
 * back to the jobs' owners, and replaces workers that die or have run their quota. It routes
 * between its parts, one job each:
 *
 *   submit(job) ──▶ JobQueue ──▶ #dispatch(): planDispatch() gives each worker its Allowance
 *                   (job-queue)  (dispatch-policy); Batcher.send() builds a RUN message within
 *                                it, each payload written by the worker's codec (batch) ─[RUN]─▶ worker
 *   worker ─[RESULTS]─▶ #onResults(): each job completed (JobQueue) and its owner told, a chunk's
 *                       results read by the worker's codec; the estimate of an item's duration
 *                       updated (dispatch-policy); then #dispatch() again
 *   worker ─[INITIALIZING, READY, INIT_FAILED, exit]─▶ Recovery (recovery): start timeouts, failed
 *                       starts, crashes (the jobs of a dead worker run again), the 'auto' fallback;
 *                       Workers (workers) starts, retires and terminates the workers
 *   worker ─[SIDE]─▶ its SideChannels (side-channels): the frames of worker plugins (../plugins.ts)
 *
 * Each part counts what it knows for `pool.stats()` through one StatsCollector (../stats.ts),
 * which also tells the pool's listeners (../events.ts), when there are any.
 *
 * The pool's own lifecycle: running → closed (no new work; workers retire once nothing is
 * pending) → terminated (everything pending fails, every worker is terminated).
 */
import type { PayloadCodec } from '../codec.js';
import { decodeThrown } from '../error-codec.js';
import { DataCloneError, type InitializerError } from '../errors.js';
import type { WorkerExitInfo } from '../executor.js';
import { JobState, type Job } from '../job.js';
import { StatsCollector, type PoolObserver, type PoolStats } from '../stats.js';
import { MessageKind, ResultStatus, RunMode, type ChunkFailure, type WireThrown } from '../wire.js';
import { Batcher } from './batch.js';
import { DurationEstimate, planDispatch } from './dispatch-policy.js';
import { JobQueue } from './job-queue.js';
import { Recovery } from './recovery.js';
import { SideChannels } from './side-channels.js';
import { SlotState, type Slot } from './slot.js';
import { Workers, type WorkersOptions } from './workers.js';

export type { Fallback } from './workers.js';

type SchedulerState = 'running' | 'closed' | 'terminated';

export interface SchedulerOptions extends WorkersOptions {
  /**
   * Milliseconds a worker's initializer may run (from the worker's INITIALIZING) before its start
   * counts as failed; `Infinity` for no limit.
   */
  readonly startTimeoutMs: number;
}

export class Scheduler {
  readonly #queue: JobQueue;
  readonly #workers: Workers;
  readonly #recovery: Recovery;
  readonly #batcher: Batcher;
  readonly #estimate = new DurationEstimate();
  readonly #stats = new StatsCollector();
  #state: SchedulerState = 'running';
  #dispatchQueued = false;
  /** The executor has been told to shut down: the pool is done. */
  #shutDown = false;
  readonly #allExited: Promise<void>;
  #resolveAllExited!: () => void;

  constructor(options: SchedulerOptions) {
    this.#queue = new JobQueue(this.#stats, () => this.#idle());
    this.#workers = new Workers(
      options,
      { message: (slot, data) => this.#onMessage(slot, data), exit: (slot, info) => this.#onExit(slot, info) },
      () => this.#demand(),
      this.#stats,
    );
    this.#recovery = new Recovery(this.#queue, this.#workers, options.startTimeoutMs, this.#stats);
    this.#batcher = new Batcher(this.#queue, this.#workers, this.#recovery);
    this.#allExited = new Promise((resolve) => {
      this.#resolveAllExited = resolve;
    });
    this.#workers.fill();
  }

  get state(): SchedulerState {
    return this.#state;
  }

  /** The context the workers run in now: the fallback's, once the pool has moved. */
  get context(): string {
    return this.#workers.context;
  }

  /** How payloads and results travel to and from the workers that start now (codec.ts). */
  get codec(): PayloadCodec {
    return this.#workers.codec;
  }

  /** Why the pool cannot run work any more, when its workers could not start. */
  get broken(): InitializerError | undefined {
    return this.#recovery.broken;
  }

  /** Milliseconds the workers have reported busy, all told (a relay reports its own from it). */
  get busyMs(): number {
    return this.#stats.busyMs;
  }

  /** Jobs waiting for a worker (what a pool's `maxQueue` bounds). */
  get queued(): number {
    return this.#queue.queued;
  }

  /** What the pool has done and is doing: see PoolStats. */
  stats(): PoolStats {
    return this.#stats.snapshot(this.#workers.slots, this.#queue.queued, this.#queue.pending);
  }

  /** From now on, `observer` hears of workers starting and exiting, tasks failing and the queue draining. */
  observe(observer: PoolObserver): void {
    this.#stats.observer = observer;
  }

  /** Ids of the workers that are alive (thread ids or process ids). */
  get workerIds(): number[] {
    return [...this.#workers.slots].map((slot) => slot.handle.id);
  }

  /** Resolves once the pool is closed or terminated and every worker has exited. */
  get allExited(): Promise<void> {
    return this.#allExited;
  }

  /** Queues a job. The caller checks that the pool accepts work. */
  submit(job: Job): void {
    this.#queue.push(job);
    if (this.#queue.pending === 1) this.#updateReferenced();
    // A big pool starts its workers as the work needs them (see Workers.fill); cheap to ask when
    // the pool has all its workers, as a pool that starts them at once has.
    if (this.#queue.pending > this.#workers.count && this.#workers.mayGrow) this.#workers.fill();
    if (!this.#dispatchQueued) {
      // Submissions made in one go (a loop of applyAsync) are dispatched together, once.
      this.#dispatchQueued = true;
      queueMicrotask(() => {
        this.#dispatchQueued = false;
        this.#stats.dispatching();
        this.#dispatch();
      });
    }
  }

  /**
   * Withdraws a job for its owner, who settles its own result: a queued job never runs; a running
   * one that runs alone has its worker terminated and replaced (nothing else runs there, and it
   * may never end by itself); any other running job has its result dropped when it comes.
   */
  cancel(job: Job): void {
    if (job.state === JobState.Running && job.alone) {
      for (const slot of this.#workers.slots) {
        if (slot.inFlight.peek() === job) {
          this.#recovery.cutShort(slot, job, undefined);
          return;
        }
      }
    }
    this.#queue.withdraw(job);
  }

  /** Stops taking work; workers retire once every pending job is done. */
  close(): void {
    if (this.#state !== 'running') return;
    this.#state = 'closed';
    this.#updateReferenced();
    if (this.#queue.pending === 0) this.#workers.retireIdle();
    this.#checkAllExited(); // a pool with no worker left (none could start) is done at once
  }

  /** Fails every pending job with `reason` and terminates every worker now. */
  terminate(reason: Error): void {
    if (this.#state === 'terminated') return;
    this.#state = 'terminated';
    this.#updateReferenced();
    this.#recovery.failAll(reason);
    for (const slot of this.#workers.slots) this.#workers.terminate(slot);
    this.#checkAllExited();
  }

  /** How many jobs are pending, for Workers.fill; undefined when no worker may start now. */
  #demand(): number | undefined {
    if (this.#recovery.broken !== undefined || this.#state === 'terminated') return undefined;
    if (this.#state === 'closed' && this.#queue.pending === 0) return undefined;
    return this.#queue.pending;
  }

  #dispatch(): void {
    if (this.#queue.length === 0) return;
    const allowances = planDispatch(this.#workers.slots, this.#queue.weight, this.#estimate.perItemMs, performance.now(), this.#workers.roundTripMs);
    // A message to each worker in turn, so that every one of them starts as early as it can;
    // from the second round on, short chunks may travel several to a message.
    for (let round = 0, sent = 1; sent > 0 && this.#queue.length > 0; round++) {
      sent = 0;
      for (let i = 0; i < allowances.length && this.#queue.length > 0; i++) {
        const allowance = allowances[i]!;
        if (!allowance.invites(this.#queue.peek())) continue;
        const weight = this.#batcher.send(allowance.worker, allowance, round);
        allowance.spend(weight);
        sent += weight;
      }
    }
  }

  // ── what workers say ──────────────────────────────────────────────────────────────────────────

  #onMessage(slot: Slot, data: unknown): void {
    if (!Array.isArray(data)) return;
    switch (data[0]) {
      case MessageKind.Results:
        this.#onResults(slot, data);
        break;
      case MessageKind.Initializing:
        this.#recovery.initializing(slot);
        break;
      case MessageKind.Ready:
        if (slot.state !== SlotState.Starting) return;
        this.#recovery.started(slot);
        slot.state = SlotState.Ready;
        this.#stats.ready(slot);
        if (this.#state !== 'running' && this.#queue.pending === 0) this.#workers.retire(slot);
        else this.#dispatch();
        break;
      case MessageKind.Side:
        // A worker being terminated is gone as far as its plugins go (see Workers.terminate).
        if (slot.state === SlotState.Terminating) return;
        (slot.sides ??= new SideChannels(slot.handle)).deliver(data[1] as number, data[2] as number, data[3]);
        break;
      case MessageKind.InitFailed:
        this.#recovery.initFailed(slot, decodeThrown(data[1] as WireThrown));
        break;
      default:
        break;
    }
  }

  #onResults(slot: Slot, data: unknown[]): void {
    slot.lastProgress = performance.now();
    let items = 0;
    for (let i = 2; i < data.length; i += 2) {
      const job = slot.takeOldest();
      if (job === undefined) break; // a worker answering more than it was asked: ignore
      items += job.weight;
      this.#deliver(slot, job, data[i] as ResultStatus, data[i + 1]);
    }
    this.#stats.answered(data[1] as number, (data.length - 2) / 2);
    this.#estimate.sample(data[1] as number, items);
    if (slot.inFlight.length === 0) {
      slot.isolating = false;
      if (slot.quota <= 0 || (this.#state !== 'running' && this.#queue.pending === 0)) this.#workers.retire(slot);
    }
    if (this.#queue.pending === 0 && this.#state === 'closed') this.#workers.retireIdle();
    this.#dispatch();
  }

  #deliver(slot: Slot, job: Job, status: ResultStatus, value: unknown): void {
    if (this.#recovery.runsOnFallback(slot, job, status, value)) return;
    switch (status) {
      case ResultStatus.Ok:
        if (!this.#queue.complete(job)) return; // withdrawn: nobody waits for it
        // A chunk's results as its worker's codec gives them (ChunkValues), to be read at once.
        job.owner.jobSucceeded(job, job.mode === RunMode.Apply ? value : slot.codec.readResults(value));
        break;
      case ResultStatus.Threw:
        this.#queue.fail(job, decodeThrown(value as WireThrown));
        break;
      case ResultStatus.ChunkThrew: {
        const [, before, thrown] = value as ChunkFailure;
        this.#queue.fail(job, decodeThrown(thrown), before);
        break;
      }
      default:
        this.#queue.fail(job, new DataCloneError(`The result of a task could not be copied back from its worker: ${String(value)}`));
    }
  }

  #onExit(slot: Slot, info: WorkerExitInfo): void {
    this.#workers.remove(slot);
    const crashed = this.#recovery.exited(slot, info);
    this.#workers.fill();
    this.#stats.exited(slot, info, crashed, slot.replaced);
    this.#dispatch();
    if (this.#queue.pending === 0 && this.#state === 'closed') this.#workers.retireIdle();
    this.#checkAllExited();
  }

  // ── the pool's own state ──────────────────────────────────────────────────────────────────────

  /** The last pending job is done. */
  #idle(): void {
    this.#updateReferenced();
    // A closed pool with no work left lets its workers go, those still starting too (an
    // initializer that never ends would otherwise hold close() and join() for ever).
    if (this.#state === 'closed') this.#workers.retireIdle();
  }

  /**
   * Workers keep the program alive while they have work, and while the pool is shutting down (so
   * that `await pool.close()` sees them exit); idle workers of a running pool do not.
   */
  #updateReferenced(): void {
    this.#workers.setReferenced(this.#queue.pending > 0 || this.#state !== 'running');
  }

  #checkAllExited(): void {
    if (this.#state === 'running' || this.#workers.count > 0 || this.#shutDown) return;
    this.#shutDown = true;
    Promise.resolve(this.#workers.shutdown()).then(this.#resolveAllExited, this.#resolveAllExited);
  }
}
