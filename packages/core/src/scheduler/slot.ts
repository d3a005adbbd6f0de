/** What the scheduler knows of one worker: its state, the jobs in flight on it, its quota. */
import type { PayloadCodec } from '../codec.js';
import { Deque } from '../deque.js';
import type { WorkerHandle } from '../executor.js';
import { payloadBytes, type Job } from '../job.js';
import type { WorkerLoad } from './dispatch-policy.js';
import type { SideChannels } from './side-channels.js';

/**
 * A worker's life, as the scheduler leads it:
 *
 *   starting ──READY──▶ ready ──nothing in flight, nothing more for it──▶ retiring ──exit──▶ gone
 *      │                  │                                                  │
 *      └──────────────────┴──failed start, timeout, abort, pool terminated───┴─▶ terminating ──exit──▶ gone
 */
export const enum SlotState {
  /** Booting: loading, running the initializer. */
  Starting,
  /**
   * Takes work while its quota lasts. With its quota spent (`maxtasksperchild`, or the pool moved
   * to its fallback) it is given nothing more, and retires once it has answered what it has.
   */
  Ready,
  /** Told to STOP with nothing in flight: its exit is expected. */
  Retiring,
  /** Being terminated: its exit is expected, whatever it had in flight. */
  Terminating,
}

/** One worker and what the scheduler knows of it. */
export class Slot implements WorkerLoad {
  state = SlotState.Starting;
  /** Jobs sent and not answered, oldest first: change it only through the methods below. */
  readonly inFlight = new Deque<Job>();
  /**
   * Jobs taken off `inFlight` from the oldest end: answered, or given up while it ran them. The
   * worker runs its jobs in the order sent, so the oldest in flight is its task number `answered`.
   */
  answered = 0;
  /** Items in flight. */
  inFlightWeight = 0;
  /** Roughly the bytes of the payloads in flight (see payloadBytes). */
  inFlightBytes = 0;
  /** Function ids this worker has been sent the definition of. */
  readonly known = new Set<number>();
  /** Jobs it may still be given (`maxtasksperchild`). */
  quota: number;
  /** It is running a job that must run alone, and gets nothing else meanwhile. */
  isolating = false;
  /** When it last made progress: was sent work while idle, or answered. */
  lastProgress = 0;
  /** Its plugins' side channels (plugins.ts); made on its first frame. */
  sides: SideChannels | undefined;
  /** How many of the registered plugins it has heard of. */
  pluginsKnown = 0;
  handle!: WorkerHandle;
  /** Set while its initializer runs, when the pool has a `timeout`: the start fails when it fires. */
  startTimer: NodeJS.Timeout | undefined;
  /** When it became ready (`performance.now()`), for the pool's utilization (stats.ts); -1 before. */
  readyAt = -1;
  /** It takes no more work (gone, going, or its quota spent): a worker started next takes its place. */
  vacated = false;
  /** A worker was started in its place (workers.ts). */
  replaced = false;
  constructor(
    /** How payloads and results travel to and from it: its backend's (codec.ts). */
    readonly codec: PayloadCodec,
    quota: number,
    /** Started before the pool moved to its fallback: its failures may call for the move. */
    readonly beforeFallback: boolean,
  ) {
    this.quota = quota;
  }

  get inFlightCount(): number {
    return this.inFlight.length;
  }

  get oldestAlone(): boolean {
    return this.inFlight.peek()?.alone === true;
  }

  get ready(): boolean {
    return this.state === SlotState.Ready;
  }

  get starting(): boolean {
    return this.state === SlotState.Starting;
  }

  /** Its start is over, one way or another: the start timer stops. */
  clearStartTimer(): void {
    if (this.startTimer === undefined) return;
    clearTimeout(this.startTimer);
    this.startTimer = undefined;
  }

  /** `job` was sent to this worker. */
  add(job: Job): void {
    this.inFlight.push(job);
    this.inFlightWeight += job.weight;
    this.inFlightBytes += payloadBytes(job);
  }

  /** The oldest job in flight, answered or given up (undefined if none). */
  takeOldest(): Job | undefined {
    const job = this.inFlight.shift();
    if (job !== undefined) {
      this.answered++;
      this.#forget(job);
    }
    return job;
  }

  /** The newest job in flight, taken back before it was sent. */
  takeNewest(): Job | undefined {
    const job = this.inFlight.pop();
    if (job !== undefined) this.#forget(job);
    return job;
  }

  /** Every job in flight, oldest first; none is left. */
  takeAll(): Job[] {
    this.inFlightWeight = 0;
    this.inFlightBytes = 0;
    return this.inFlight.drain();
  }

  #forget(job: Job): void {
    this.inFlightWeight -= job.weight;
    this.inFlightBytes -= payloadBytes(job);
  }
}
