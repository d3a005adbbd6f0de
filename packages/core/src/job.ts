/**
 * A job is one unit the scheduler sends to a worker: one `apply` task, or one chunk of a map.
 * Only the scheduler's job queue (scheduler/job-queue.ts) moves a job from one state to another:
 *
 *   queued ──taken──▶ running ──answered, or failed──────────────────────────────▶ done
 *     ▲                 │ └──withdrawn by its owner──▶ cancelled ──answered, or its worker ended──▶ done
 *     └──sent again─────┘   (it never reached its worker, its worker died, or the pool moved to its fallback)
 *   queued ──withdrawn, or failed──▶ done
 */
import type { FnEntry } from './task.js';
import type { RunMode } from './wire.js';

export const enum JobState {
  /** Waiting in the queue for a worker. */
  Queued,
  /** Sent to a worker, not answered yet. */
  Running,
  /** Over: its owner has been told, or had withdrawn it. */
  Done,
  /** Running, but withdrawn by its owner: its result is dropped when it comes. */
  Cancelled,
}

/** Who is told how a job ended: an `AsyncResult`, a map, an imap iterator. Called once per job. */
export interface JobOwner<M = unknown> {
  /** `value` is the task's result; for a chunk, its results (ChunkValues, codec.ts). */
  jobSucceeded(job: Job<M>, value: unknown): void;
  /** `before` holds the results of a chunk's items before the one that failed. */
  jobFailed(job: Job<M>, error: unknown, before: readonly unknown[] | undefined): void;
}

/** What a call asked of each of its jobs: a time limit, a signal to stop them. */
export interface JobLimits {
  /** Milliseconds a job may run; `Infinity` for no limit. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  /**
   * Its owner may withdraw it while it runs, and then its worker must be stopped (a task relayed
   * from a pool on another machine, which that pool may withdraw). Default: false.
   */
  readonly stoppable?: boolean;
}

export class Job<M = unknown> {
  state = JobState.Queued;
  /**
   * The job runs alone on its worker, with nothing sent to it before or after meanwhile: a job
   * with a timeout, an abort signal or an owner that may stop it (stopping its worker then stops nothing else, and its
   * clock starts when it really starts), decided here once; and a job run again after its
   * worker died alongside other unanswered jobs (see `runAloneFromNowOn`).
   */
  alone: boolean;
  /** Milliseconds the job may run before it fails with `TimeoutError`; `Infinity` for no limit. */
  readonly timeoutMs: number;
  /** The running job's timeout timer. */
  timer: NodeJS.Timeout | undefined;
  /** Roughly how many bytes its payload copies (see payloadBytes); -1 until first asked. */
  bytes = -1;

  constructor(
    readonly fn: FnEntry,
    readonly mode: RunMode,
    /** Arguments (apply) or items (a chunk); kept while in flight, to run again after a crash. */
    public payload: unknown,
    /** How many items the job runs: 1 for apply, the chunk's length for a chunk. */
    readonly weight: number,
    readonly owner: JobOwner<M>,
    /** The owner's own mark: its AsyncResult, or the chunk's index in its map. */
    readonly mark: M,
    limits: JobLimits,
  ) {
    this.timeoutMs = limits.timeoutMs;
    this.alone = limits.timeoutMs !== Infinity || limits.signal !== undefined || limits.stoppable === true;
  }

  /**
   * Its worker died with it and other jobs unanswered, so which one killed it is not known: from
   * now on it runs alone, and if it kills its worker again, it is the one.
   */
  runAloneFromNowOn(): void {
    this.alone = true;
  }
}

/** A value's size for payloadBytes: binary data and strings by their length, anything else small. */
function valueBytes(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (typeof value !== 'object' || value === null) return 8;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  const tag = Object.prototype.toString.call(value);
  if (tag === '[object ArrayBuffer]') return (value as ArrayBuffer).byteLength;
  return 64;
}

/**
 * Roughly how many bytes a job's payload copies to its worker: the binary data (typed arrays,
 * ArrayBuffers) and strings among its arguments or items, one level into arrays. Cheap, and
 * blind to big nested objects, which count as small; it keeps messages of big buffers apart.
 */
export function payloadBytes(job: Job): number {
  if (job.bytes >= 0) return job.bytes;
  let bytes = 0;
  const payload = job.payload;
  if (Array.isArray(payload)) {
    for (const item of payload) {
      if (Array.isArray(item)) for (const inner of item) bytes += valueBytes(inner);
      else bytes += valueBytes(item);
    }
  } else {
    bytes = valueBytes(payload);
  }
  job.bytes = bytes;
  return bytes;
}
