/** What the scheduler knows of one worker: its state, the jobs in flight on it, its quota. */
import { Deque } from './deque.js';
import type { WorkerHandle } from './executor.js';
import type { Job } from './job.js';
import type { Connection } from './shared-registry.js';

export const enum SlotState {
  /** Booting: loading, running the initializer. */
  Starting,
  /** Takes work. */
  Ready,
  /** Finishing its last jobs (quota spent, or pool closing), then told to stop. */
  Retiring,
  /** Being terminated; its exit is expected. */
  Ending,
}

/** One worker and what the scheduler knows of it. */
export class Slot {
  state = SlotState.Starting;
  readonly inFlight = new Deque<Job>();
  inFlightWeight = 0;
  /** Roughly the bytes of the payloads in flight (see payloadBytes). */
  inFlightBytes = 0;
  /** Function ids this worker has been sent the definition of. */
  readonly known = new Set<number>();
  /** Jobs it may still be given (`maxtasksperchild`). */
  quota: number;
  /** It is running a job that must run alone, and gets nothing else meanwhile. */
  isolating = false;
  stopSent = false;
  /** When it last made progress: was sent work while idle, or answered. */
  lastProgress = 0;
  /** Its calls on shared objects; made on its first call. */
  connection: Connection | undefined;
  handle!: WorkerHandle;
  /** Its backend takes map chunks of numbers as Float64Array bytes. */
  packsNumbers = false;

  constructor(
    quota: number,
    /** Started before the pool moved to its fallback: its failures may call for the move. */
    readonly beforeFallback: boolean,
  ) {
    this.quota = quota;
  }
}
