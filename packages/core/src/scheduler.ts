/**
 * The scheduler: keeps `size` workers alive, feeds them jobs from one queue, hands results back to
 * the jobs' owners, and replaces workers that die or have run their quota.
 *
 *   submit(job) ─▶ queue ─▶ dispatch() ─[RUN, batch]─▶ worker ─[RESULTS, batch]─▶ onResults()
 *                                                        │ exit ▼
 *                                   onExit(): the job that killed it fails, the others run again
 *
 * How much goes to a worker at once adapts to the work: the scheduler keeps an estimate of how
 * long one item takes (from the busy time the workers report) and keeps about PIPELINE_TARGET_MS
 * of work in flight per worker, in two messages, so that a worker never waits for the next
 * message while tiny tasks travel hundreds to a message and long tasks go one at a time (which
 * keeps the load even). Map chunks too big for that allowance but short (under SHORT_JOB_MS)
 * queue up behind each other and travel several to a message; big payloads are kept to
 * MESSAGE_MAX_BYTES a message and MAX_IN_FLIGHT_BYTES in flight per worker.
 */
import { decodeThrown } from './error-codec.js';
import { Deque } from './deque.js';
import { describeExit, isCloneError, isWorkerGone, messageOf } from './exit-info.js';
import { DataCloneError, InitializerError, TimeoutError, WorkerCrashedError } from './errors.js';
import type { Executor, WorkerExitInfo } from './executor.js';
import { Job, JobState, payloadBytes } from './job.js';
import { InputBuffers, isPackedNumbers, NumberArena } from './numbers.js';
import { Connection } from './shared-registry.js';
import { Slot, SlotState } from './worker-slot.js';
import { MessageKind, ResultStatus, RunMode, type ChunkFailure, type FnDef, type WireThrown, type WorkerInit } from './wire.js';

/** Milliseconds of work to keep in flight per worker: enough to hide a message's round trip (~50 µs). */
const PIPELINE_TARGET_MS = 1;
/** The most items in flight per worker, however tiny they are: bounds a message's size. */
const MAX_IN_FLIGHT = 1024;
/** Weight of the newest busy-time sample in the per-item estimate: adapts within a few batches. */
const ESTIMATE_SMOOTHING = 0.5;
/**
 * A worker with work in flight that has not answered for this long is running something longer
 * than the estimate said: it gets no more work until it answers, so none waits behind it.
 */
const STALL_MS = 5;
/**
 * A message holds no more than this many bytes of payload (see payloadBytes), however quick its
 * jobs: big buffers go one or a few to a message, so that a worker starts on the first while
 * the next is still being copied, and no message needs one huge buffer.
 */
const MESSAGE_MAX_BYTES = 1 << 20;
/**
 * A worker with work in flight is given more only while its payloads stay under this many bytes:
 * big buffers then go a couple at a time, the memory that carries them is reused while it is
 * still warm, and the pool answers results between sends instead of copying everything first.
 */
const MAX_IN_FLIGHT_BYTES = 2 << 20;
/** A job expected to take less than this may wait on a worker behind another (see #mayQueueBehind). */
const SHORT_JOB_MS = 2;
/** After this many workers in a row fail to start, the pool stops trying: the cause is not luck. */
const STARTUP_FAILURE_LIMIT = 3;

type SchedulerState = 'running' | 'closed' | 'terminated';

/** Where to move when a worker reports that it cannot do what a task or the initializer needs. */
export interface Fallback {
  /** The context name to report once moved. */
  readonly context: string;
  readonly executor: Executor;
  /** Whether `error`, from a task or the initializer, calls for the move. */
  readonly when: (error: unknown) => boolean;
}

export interface SchedulerOptions {
  readonly executor: Executor;
  /** The context name the pool reports. */
  readonly context: string;
  /** Where to move on an error the first executor's workers cannot get past (the 'auto' context). */
  readonly fallback?: Fallback;
  /** The most workers the pool has. */
  readonly size: number;
  /** How many of them start at once; the others start when there is more work than workers. */
  readonly startAtOnce: number;
  readonly init: WorkerInit;
  /** Jobs per worker before it is replaced; `Infinity` for never. */
  readonly maxTasksPerChild: number;
  /**
   * Milliseconds a worker's initializer may run (from the worker's INITIALIZING) before its start
   * counts as failed; `Infinity` for no limit.
   */
  readonly startTimeoutMs: number;
}

export class Scheduler {
  #executor: Executor;
  #context: string;
  #fallback: Fallback | undefined;
  #movedToFallback = false;
  readonly #size: number;
  readonly #startAtOnce: number;
  readonly #init: WorkerInit;
  readonly #maxTasksPerChild: number;
  readonly #startTimeoutMs: number;

  readonly #queue = new Deque<Job>();
  /** Weight of the jobs in the queue that are not cancelled. */
  #queuedWeight = 0;
  /** Milliseconds of work the workers have reported, all told. */
  #busyMs = 0;
  /** Jobs submitted and not yet done: queued or in flight, cancelled in-flight ones included. */
  #pending = 0;
  /** Every worker that has not exited yet. */
  readonly #slots = new Set<Slot>();
  #state: SchedulerState = 'running';
  #broken: InitializerError | undefined;
  #startupFailures = 0;
  #perItemMs = Number.NaN;
  /** Scratch space for chunks of numbers, reused by every message sent. */
  readonly #arena = new NumberArena();
  /** Whole maps' inputs of numbers, reused from map to map (see MapRun). */
  readonly inputBuffers = new InputBuffers();
  #dispatchQueued = false;
  /** The executor has been told to shut down: the pool is done. */
  #shutDown = false;
  #referenced = false;
  readonly #allExited: Promise<void>;
  #resolveAllExited!: () => void;

  constructor(options: SchedulerOptions) {
    this.#executor = options.executor;
    this.#context = options.context;
    this.#fallback = options.fallback;
    this.#size = options.size;
    this.#startAtOnce = options.startAtOnce;
    this.#init = options.init;
    this.#maxTasksPerChild = options.maxTasksPerChild;
    this.#startTimeoutMs = options.startTimeoutMs;
    this.#allExited = new Promise((resolve) => {
      this.#resolveAllExited = resolve;
    });
    this.#fill();
  }

  get state(): SchedulerState {
    return this.#state;
  }

  /** The context the workers run in now: the fallback's, once the pool has moved. */
  get context(): string {
    return this.#context;
  }

  /** Whether chunks of numbers travel to the workers as bytes now (see numbers.ts). */
  get packsNumbers(): boolean {
    return this.#executor.packsNumbers === true;
  }

  /** Why the pool cannot run work any more, when its workers could not start. */
  get broken(): InitializerError | undefined {
    return this.#broken;
  }

  /** Milliseconds the workers have reported busy, all told (a relay reports its own from it). */
  get busyMs(): number {
    return this.#busyMs;
  }

  /** Ids of the workers that are alive (thread ids or process ids). */
  get workerIds(): number[] {
    return [...this.#slots].map((slot) => slot.handle.id);
  }

  /** Resolves once the pool is closed or terminated and every worker has exited. */
  get allExited(): Promise<void> {
    return this.#allExited;
  }

  /** Queues a job. The caller checks that the pool accepts work. */
  submit(job: Job): void {
    this.#queue.push(job);
    this.#queuedWeight += job.weight;
    if (this.#pending++ === 0) this.#updateReferenced();
    // A big pool starts its workers as the work needs them (see #fill); cheap to ask when the
    // pool has all its workers, as a pool that starts them at once has.
    if (this.#pending > this.#slots.size && this.#slots.size < this.#size) this.#fill();
    if (!this.#dispatchQueued) {
      // Submissions made in one go (a loop of applyAsync) are dispatched together, once.
      this.#dispatchQueued = true;
      queueMicrotask(() => {
        this.#dispatchQueued = false;
        this.#dispatch();
      });
    }
  }

  /**
   * Withdraws a job for its owner, who settles its own result: a queued job never runs; a running
   * one that runs alone has its worker stopped and replaced (nothing else runs there, and it may
   * never end by itself); any other running job has its result dropped when it comes.
   */
  cancel(job: Job): void {
    if (job.state === JobState.Queued) {
      job.state = JobState.Cancelled;
      job.payload = undefined;
      this.#queuedWeight -= job.weight;
      this.#jobFinished();
    } else if (job.state === JobState.Running) {
      if (job.alone) {
        for (const slot of this.#slots) {
          if (slot.inFlight.peek() === job) {
            this.#stopRunning(slot, job, undefined);
            return;
          }
        }
      }
      job.state = JobState.Cancelled;
    }
  }

  /** Stops taking work; workers stop once every pending job is done. */
  close(): void {
    if (this.#state !== 'running') return;
    this.#state = 'closed';
    this.#updateReferenced();
    if (this.#pending === 0) this.#stopIdleWorkers();
    this.#checkAllExited(); // a pool with no worker left (none could start) is done at once
  }

  /** Fails every pending job with `reason` and stops every worker now. */
  terminate(reason: Error): void {
    if (this.#state === 'terminated') return;
    this.#state = 'terminated';
    this.#updateReferenced();
    this.#failEverything(reason);
    for (const slot of this.#slots) this.#end(slot);
    this.#checkAllExited();
  }

  // ── dispatch ──────────────────────────────────────────────────────────────────────────────────

  /** Items in flight allowed per worker, from the current estimate of an item's duration. */
  #inFlightCap(): number {
    if (Number.isNaN(this.#perItemMs)) return 1; // unknown yet: one at a time until we know
    if (this.#perItemMs <= 0) return MAX_IN_FLIGHT;
    const target = this.#executor.roundTripMs === undefined ? PIPELINE_TARGET_MS : Math.max(PIPELINE_TARGET_MS, this.#executor.roundTripMs);
    return Math.max(1, Math.min(MAX_IN_FLIGHT, Math.floor(target / this.#perItemMs)));
  }

  #dispatch(): void {
    if (this.#queue.length === 0) return;
    const cap = this.#inFlightCap();
    const perMessage = Math.max(1, Math.ceil(cap / 2));
    const now = performance.now();
    const stallMs = STALL_MS + (this.#executor.roundTripMs ?? 0);
    const takers: Slot[] = [];
    let starting = 0;
    for (const slot of this.#slots) {
      if (slot.quota <= 0) continue;
      if (slot.state === SlotState.Starting) starting++;
      else if (slot.state === SlotState.Ready && !slot.isolating && (slot.inFlight.length === 0 || now - slot.lastProgress < stallMs)) takers.push(slot);
    }
    // Idle workers first, then the least loaded: work never queues behind a busy worker while
    // another is free.
    takers.sort((a, b) => a.inFlightWeight - b.inFlightWeight);
    // Workers still starting count in the share, so that a burst is not all given to the first
    // worker ready; what they do not get yet waits in the queue for whoever asks first.
    const share = Math.ceil(this.#queuedWeight / (takers.length + starting));
    const budgets = takers.map((slot) => Math.min(cap - slot.inFlightWeight, share));
    const shares = takers.map(() => share);
    // A message to each worker in turn, so that every one of them starts as early as it can;
    // from the second round on, short chunks may travel several to a message.
    for (let round = 0, sent = 1; sent > 0 && this.#queue.length > 0; round++) {
      sent = 0;
      for (let i = 0; i < takers.length && this.#queue.length > 0; i++) {
        const slot = takers[i]!;
        if (slot.isolating || slot.quota <= 0) continue;
        if (!(budgets[i]! > 0 || slot.inFlight.length === 0 || (shares[i]! > 0 && this.#mayQueueBehind(slot, this.#queue.peek(), cap)))) continue;
        const weight = this.#sendBatch(slot, Math.min(budgets[i]!, perMessage), cap, round === 0 ? 0 : shares[i]!);
        budgets[i]! -= weight;
        shares[i]! -= weight;
        sent += weight;
      }
    }
  }

  /**
   * Whether `next`, a job too big for the in-flight allowance (a map's chunk), may still wait on
   * `slot` behind the jobs it has: when it is short, and what the worker has ahead of it is too
   * (each under SHORT_JOB_MS). The worker then goes from one chunk to the next without waiting
   * for a round trip, tiny chunks travel several to a message, and no chunk waits long behind
   * others while another worker may be free.
   */
  #mayQueueBehind(slot: Slot, next: Job | undefined, cap: number): boolean {
    if (next === undefined || next.alone || next.weight <= cap) return false;
    if (slot.inFlight.length === 0 || slot.inFlight.peek()!.alone) return false;
    return next.weight * this.#perItemMs < SHORT_JOB_MS && slot.inFlightWeight * this.#perItemMs < SHORT_JOB_MS;
  }

  /**
   * Sends one message of queued jobs to `slot`, of about `maxWeight` items, or more when the
   * jobs are short chunks that may queue behind each other within `shareLeft`; returns the
   * weight sent.
   */
  #sendBatch(slot: Slot, maxWeight: number, cap: number, shareLeft: number): number {
    const message: unknown[] = [MessageKind.Run, 0];
    let defs: FnDef[] | undefined;
    let weight = 0;
    let count = 0;
    let bytes = 0;
    const start = slot.inFlight.length;
    if (start === 0) slot.lastProgress = performance.now();
    while (slot.quota > 0) {
      const job = this.#queue.peek();
      if (job === undefined) break;
      if (job.state === JobState.Cancelled) {
        this.#queue.shift();
        continue;
      }
      // Always at least one job per message; a job that runs alone goes to an idle worker.
      if (count > 0) {
        if (job.alone || bytes + payloadBytes(job) > MESSAGE_MAX_BYTES) break;
        const fits = weight + job.weight <= maxWeight || (weight + job.weight <= shareLeft && this.#mayQueueBehind(slot, job, cap));
        if (!fits) break;
      }
      if (job.alone && slot.inFlight.length > 0) break;
      if (slot.inFlight.length > 0 && slot.inFlightBytes + payloadBytes(job) > MAX_IN_FLIGHT_BYTES) break;
      this.#queue.shift();
      this.#queuedWeight -= job.weight;
      if (!slot.known.has(job.fn.id)) {
        slot.known.add(job.fn.id);
        (defs ??= []).push([job.fn.id, job.fn.spec]);
      }
      message.push(job.fn.id, job.mode, this.#payloadFor(slot, job));
      job.state = JobState.Running;
      slot.add(job);
      slot.quota--;
      weight += job.weight;
      bytes += payloadBytes(job);
      count++;
      if (job.alone) {
        slot.isolating = true;
        if (job.timeoutMs !== Infinity) job.timer = setTimeout(() => this.#timedOut(slot, job), job.timeoutMs);
        break;
      }
    }
    if (count === 0) return 0;
    if (defs !== undefined) message[1] = defs;
    try {
      this.#post(slot, message);
    } catch (error) {
      const jobs = this.#takeBack(slot, start, defs);
      if (isWorkerGone(error)) this.#workerGone(slot, jobs);
      else this.#sendOneByOne(slot, jobs, error);
    }
    if (slot.quota <= 0) this.#fill(); // its replacement boots while it finishes
    return weight;
  }

  /** The jobs of a batch that was not sent, from `start` on in `slot`'s, taken back off it. */
  #takeBack(slot: Slot, start: number, defs: FnDef[] | undefined): Job[] {
    const jobs: Job[] = [];
    while (slot.inFlight.length > start) {
      jobs.unshift(slot.takeNewest() as Job);
      slot.quota++;
    }
    for (const [fnId] of defs ?? []) slot.known.delete(fnId);
    // A job that runs alone was the batch's only one: the worker is not isolating until it is sent.
    if (slot.inFlight.length === 0) slot.isolating = false;
    return jobs;
  }

  /**
   * A batch could not be copied to the worker: some argument cannot be cloned. Send its jobs one
   * by one instead, failing only those that cannot go.
   */
  #sendOneByOne(slot: Slot, jobs: Job[], batchError: unknown): void {
    for (let i = 0; i < jobs.length; i++) {
      const job = jobs[i]!;
      const fresh = !slot.known.has(job.fn.id);
      const message: unknown[] = [MessageKind.Run, fresh ? [[job.fn.id, job.fn.spec]] : 0, job.fn.id, job.mode, this.#payloadFor(slot, job)];
      try {
        this.#post(slot, message);
      } catch (error) {
        if (isWorkerGone(error)) {
          this.#workerGone(slot, jobs.slice(i));
          return;
        }
        const reason = messageOf(error ?? batchError);
        this.#fail(job, new DataCloneError(`The arguments of a task could not be copied to its worker: ${reason}`, { cause: error }));
        continue;
      }
      if (fresh) slot.known.add(job.fn.id);
      slot.add(job);
      slot.quota--;
      if (job.alone) slot.isolating = true;
    }
  }

  /**
   * `slot`'s worker cannot be sent anything any more (WorkerGoneError): `jobs`, which never reached
   * it, go back to the front of the queue, not counted against it. It gets no more work, and is
   * ended once it has answered what it has (unless its exit comes first, as after any crash).
   */
  #workerGone(slot: Slot, jobs: Job[]): void {
    for (let i = jobs.length - 1; i >= 0; i--) {
      const job = jobs[i]!;
      this.#clearTimer(job); // its clock starts again when it is sent again
      job.state = JobState.Queued;
      this.#queue.unshift(job);
      this.#queuedWeight += job.weight;
    }
    slot.quota = 0;
    if (slot.inFlight.length === 0) {
      slot.isolating = false;
      this.#end(slot);
    }
  }

  /**
   * Sends a message; the scratch space of its packed chunks is free again once it is written out
   * (or was never sent). One the backend still has to write keeps that space: the next message
   * packs into new.
   */
  #post(slot: Slot, message: unknown[]): void {
    let written: boolean | void = true;
    try {
      written = slot.handle.send(message);
    } finally {
      if (written === false) this.#arena.abandon();
      else this.#arena.reset();
    }
  }

  /**
   * What goes on the wire for `job`: a map's chunk of numbers packed, where the slot takes that.
   * A chunk the map packed itself when called (it does so only where slots take packed chunks)
   * goes as it is.
   */
  #payloadFor(slot: Slot, job: Job): unknown {
    const payload = job.payload;
    if (!slot.packsNumbers || job.mode !== RunMode.Map || isPackedNumbers(payload)) return payload;
    return this.#arena.pack(payload as unknown[]) ?? payload;
  }

  // ── results ───────────────────────────────────────────────────────────────────────────────────

  #onMessage(slot: Slot, data: unknown): void {
    if (!Array.isArray(data)) return;
    switch (data[0]) {
      case MessageKind.Results:
        this.#onResults(slot, data);
        break;
      case MessageKind.Initializing:
        if (slot.state === SlotState.Starting && this.#startTimeoutMs !== Infinity && slot.startTimer === undefined) {
          // Unreferenced: a start nobody waits for must not keep the program alive.
          slot.startTimer = setTimeout(() => this.#startTimedOut(slot), this.#startTimeoutMs).unref();
        }
        break;
      case MessageKind.Ready:
        if (slot.state !== SlotState.Starting) return;
        slot.clearStartTimer();
        slot.state = SlotState.Ready;
        this.#startupFailures = 0;
        if (this.#state !== 'running' && this.#pending === 0) this.#stop(slot);
        else this.#dispatch();
        break;
      case MessageKind.Rpc:
        // A worker being stopped is gone as far as shared objects go (see #end).
        if (slot.state === SlotState.Ending) return;
        (slot.connection ??= new Connection((id, frame) => {
          try {
            slot.handle.send([MessageKind.Rpc, id, frame]);
          } catch (error) {
            // A value that cannot be copied is comlink's to report to the caller; a worker that
            // is gone has no one to answer.
            if (isCloneError(error)) throw error;
          }
        })).deliver(data[1] as number, data[2]);
        break;
      case MessageKind.InitFailed: {
        slot.clearStartTimer();
        const error = decodeThrown(data[1] as WireThrown);
        if (slot.beforeFallback && this.#fallback?.when(error) === true) {
          this.#moveToFallback(error);
          this.#end(slot);
        } else {
          this.#startupFailed(slot, error);
        }
        break;
      }
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
    const busyMs = data[1] as number;
    this.#busyMs += busyMs;
    if (busyMs > 0 && items > 0) {
      const sample = busyMs / items;
      this.#perItemMs = Number.isNaN(this.#perItemMs) ? sample : this.#perItemMs + ESTIMATE_SMOOTHING * (sample - this.#perItemMs);
    }
    if (slot.inFlight.length === 0) {
      slot.isolating = false;
      if (slot.quota <= 0 || (this.#state !== 'running' && this.#pending === 0)) this.#stop(slot);
    }
    if (this.#pending === 0 && this.#state === 'closed') this.#stopIdleWorkers();
    this.#dispatch();
  }

  #deliver(slot: Slot, job: Job, status: ResultStatus, value: unknown): void {
    if (slot.beforeFallback && job.state !== JobState.Cancelled && this.#runsOnFallback(job, status, value)) return;
    const cancelled = job.state === JobState.Cancelled;
    job.state = JobState.Done;
    job.payload = undefined;
    this.#clearTimer(job);
    this.#jobFinished();
    if (cancelled) return;
    switch (status) {
      case ResultStatus.Ok:
        // A chunk's results of numbers may come packed (see numbers.ts): its owner, a map or an
        // imap, reads them in place.
        job.owner.jobSucceeded(job, value);
        break;
      case ResultStatus.Threw:
        job.owner.jobFailed(job, decodeThrown(value as WireThrown), undefined);
        break;
      case ResultStatus.ChunkThrew: {
        const [, before, thrown] = value as ChunkFailure;
        job.owner.jobFailed(job, decodeThrown(thrown), before);
        break;
      }
      default:
        job.owner.jobFailed(job, new DataCloneError(`The result of a task could not be copied back from its worker: ${String(value)}`), undefined);
    }
  }

  #jobFinished(): void {
    if (--this.#pending !== 0) return;
    this.#updateReferenced();
    // A closed pool with no work left lets its workers go, those still starting too (an
    // initializer that never ends would otherwise hold close() and join() for ever).
    if (this.#state === 'closed') this.#stopIdleWorkers();
  }

  /** Fails a job that never got (or lost) its result. */
  #fail(job: Job, error: unknown): void {
    if (job.state === JobState.Done) return;
    const cancelled = job.state === JobState.Cancelled;
    if (job.state === JobState.Queued) this.#queuedWeight -= job.weight;
    job.state = JobState.Done;
    job.payload = undefined;
    this.#clearTimer(job);
    this.#jobFinished();
    if (!cancelled) job.owner.jobFailed(job, error, undefined);
  }

  #clearTimer(job: Job): void {
    if (job.timer !== undefined) {
      clearTimeout(job.timer);
      job.timer = undefined;
    }
  }

  /**
   * Whether `job` failed with an error its worker's kind cannot get past but the fallback's can
   * (the 'auto' context): then the pool moves, and the job goes back to the head of the queue to
   * run on the fallback's workers. A chunk runs again whole, the items before the one that failed
   * included: the results those gave on the first worker are dropped.
   */
  #runsOnFallback(job: Job, status: ResultStatus, value: unknown): boolean {
    let thrown: WireThrown;
    if (status === ResultStatus.Threw) thrown = value as WireThrown;
    else if (status === ResultStatus.ChunkThrew) thrown = (value as ChunkFailure)[2];
    else return false;
    const error = decodeThrown(thrown);
    if (this.#fallback?.when(error) !== true) return false;
    this.#moveToFallback(error);
    this.#clearTimer(job);
    job.state = JobState.Queued;
    this.#queue.unshift(job);
    this.#queuedWeight += job.weight;
    return true;
  }

  /** A job ran past its timeout: it fails, and its worker, which may never return, is replaced. */
  #timedOut(slot: Slot, job: Job): void {
    job.timer = undefined;
    if (job.state !== JobState.Running || slot.inFlight.peek() !== job) return;
    this.#stopRunning(slot, job, new TimeoutError(`The task ran past its timeout of ${job.timeoutMs} ms; its worker was stopped and will be replaced`));
  }

  /** Ends a job that runs alone on `slot`, failing it with `error` if given, and ends its worker. */
  #stopRunning(slot: Slot, job: Job, error: Error | undefined): void {
    slot.takeOldest();
    if (error === undefined) job.state = JobState.Cancelled;
    this.#fail(job, error);
    this.#end(slot);
  }

  #failEverything(error: Error): void {
    for (const job of this.#queue.drain()) {
      if (job.state === JobState.Cancelled) continue;
      this.#fail(job, error);
    }
    for (const slot of this.#slots) {
      for (const job of slot.takeAll()) this.#fail(job, error);
    }
  }

  // ── workers ───────────────────────────────────────────────────────────────────────────────────

  /** Workers that take or will take work. */
  #activeCount(): number {
    let n = 0;
    for (const slot of this.#slots) if ((slot.state === SlotState.Starting || slot.state === SlotState.Ready) && slot.quota > 0) n++;
    return n;
  }

  /**
   * Starts workers until there are enough active ones, while there is or may be work: `size` of
   * them for a pool that starts them all at once; for a bigger pool, those it starts at once, or
   * one for each job pending when there are more, up to `size`.
   */
  #fill(): void {
    if (this.#broken !== undefined || this.#state === 'terminated') return;
    if (this.#state === 'closed' && this.#pending === 0) return;
    const wanted = Math.min(this.#size, Math.max(this.#startAtOnce, this.#pending));
    for (let n = this.#activeCount(); n < wanted; n++) this.#spawn();
  }

  #spawn(): void {
    const slot = new Slot(this.#maxTasksPerChild, this.#fallback !== undefined && !this.#movedToFallback);
    this.#slots.add(slot);
    slot.packsNumbers = this.#executor.packsNumbers === true;
    slot.handle = this.#executor.start(this.#init, {
      message: (data) => this.#onMessage(slot, data),
      exit: (info) => this.#onExit(slot, info),
    });
    if (this.#referenced) slot.handle.ref();
    else slot.handle.unref();
  }

  /**
   * Moves the pool to its fallback executor, once: the current workers get no more work and stop
   * when they have finished what they have; new workers start on the fallback.
   */
  #moveToFallback(error: unknown): void {
    const fallback = this.#fallback;
    if (fallback === undefined || this.#movedToFallback) return;
    this.#movedToFallback = true;
    const from = this.#context;
    void this.#executor.shutdown?.();
    this.#executor = fallback.executor;
    this.#context = fallback.context;
    const reason = messageOf(error);
    process.emitWarning(`mpool: a task or initializer cannot run in a ${from} worker (${reason}); this pool now runs on '${fallback.context}' processes`, { code: 'MPOOL_CONTEXT_FALLBACK' });
    for (const slot of this.#slots) {
      slot.quota = 0;
      if (slot.inFlight.length === 0) this.#stop(slot);
    }
    this.#fill();
  }

  /** Asks a worker to finish what it has and exit. */
  #stop(slot: Slot): void {
    if (slot.state === SlotState.Ending || slot.stopSent) return;
    if (slot.state === SlotState.Starting) {
      this.#end(slot);
      return;
    }
    slot.state = SlotState.Retiring;
    slot.stopSent = true;
    try {
      slot.handle.send([MessageKind.Stop]);
    } catch {
      this.#end(slot);
    }
  }

  #stopIdleWorkers(): void {
    for (const slot of this.#slots) if (slot.inFlight.length === 0) this.#stop(slot);
  }

  /**
   * Terminates a worker now; its exit is expected. Shared objects hear at once that it is gone:
   * a queue must not hand the next item to a get() of the task just stopped.
   */
  #end(slot: Slot): void {
    if (slot.state === SlotState.Ending) return;
    slot.state = SlotState.Ending;
    slot.connection?.close();
    slot.handle.terminate().catch(() => undefined);
  }

  /** A worker's initializer ran past the pool's timeout: a failed start, like one that threw. */
  #startTimedOut(slot: Slot): void {
    slot.startTimer = undefined;
    if (slot.state !== SlotState.Starting) return;
    this.#startupFailed(slot, new TimeoutError(`A worker's initializer ran past the pool's timeout of ${this.#startTimeoutMs} ms; the worker was stopped`));
  }

  #startupFailed(slot: Slot, error: unknown): void {
    this.#end(slot);
    if (++this.#startupFailures < STARTUP_FAILURE_LIMIT || this.#broken !== undefined) return;
    this.#broken = new InitializerError(`mpool's workers could not start (${STARTUP_FAILURE_LIMIT} failed in a row): ${messageOf(error)}`, { cause: error });
    this.#failEverything(this.#broken);
  }

  #onExit(slot: Slot, info: WorkerExitInfo): void {
    this.#slots.delete(slot);
    slot.clearStartTimer();
    slot.connection?.close();
    const jobs = slot.takeAll();
    const expected = slot.state === SlotState.Ending || (slot.state === SlotState.Retiring && jobs.length === 0);
    if (slot.state === SlotState.Starting) {
      this.#startupFailed(slot, info.error ?? new Error(`A worker exited during start-up (${describeExit(info)})`));
    } else if (jobs.length > 0) {
      this.#recoverJobs(jobs, info);
    } else if (!expected) {
      process.emitWarning(`An idle mpool worker exited unexpectedly (${describeExit(info)})${info.error === undefined ? '' : `: ${messageOf(info.error)}`}`, { code: 'MPOOL_WORKER_EXITED' });
    }
    this.#fill();
    this.#dispatch();
    if (this.#pending === 0 && this.#state === 'closed') this.#stopIdleWorkers();
    this.#checkAllExited();
  }

  /**
   * A worker died with jobs unanswered. With one, that job killed it. With several, results of
   * finished ones may be lost with it and which one killed it is unknown, so all run again, each
   * alone: a job that kills its worker when alone is the culprit.
   */
  #recoverJobs(jobs: Job[], info: WorkerExitInfo): void {
    const first = jobs[0];
    if (jobs.length === 1 || first.alone) {
      const cause = info.error;
      const detail = cause === undefined ? '' : `: ${messageOf(cause)}`;
      this.#fail(first, new WorkerCrashedError(`The worker running this task died (${describeExit(info)})${detail}`, info, cause === undefined ? undefined : { cause }));
      jobs = jobs.slice(1);
    } else {
      for (const job of jobs) job.alone = true;
    }
    for (let i = jobs.length - 1; i >= 0; i--) {
      const job = jobs[i];
      if (job.state === JobState.Cancelled) {
        job.state = JobState.Done;
        job.payload = undefined;
        this.#jobFinished();
        continue;
      }
      job.state = JobState.Queued;
      this.#queue.unshift(job);
      this.#queuedWeight += job.weight;
    }
  }

  /**
   * Workers keep the program alive while they have work, and while the pool is shutting down (so
   * that `await pool.close()` sees them exit); idle workers of a running pool do not.
   */
  #updateReferenced(): void {
    const referenced = this.#pending > 0 || this.#state !== 'running';
    if (this.#referenced === referenced) return;
    this.#referenced = referenced;
    // Workers with nothing to do must not keep the program alive; with work they must.
    for (const slot of this.#slots) {
      if (referenced) slot.handle.ref();
      else slot.handle.unref();
    }
  }

  #checkAllExited(): void {
    if (this.#state === 'running' || this.#slots.size > 0 || this.#shutDown) return;
    this.#shutDown = true;
    Promise.resolve(this.#executor.shutdown?.()).then(this.#resolveAllExited, this.#resolveAllExited);
  }
}
