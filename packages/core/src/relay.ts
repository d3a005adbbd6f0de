/**
 * A pool that speaks the wire protocol: for a backend whose workers are pools themselves (the
 * 'bullmq' context's `mpool-worker` runs what it is sent in a local pool). It takes tasks as they
 * travel (a function's spec, a mode, a payload) and answers each with its wire outcome (a status
 * and a value, errors encoded), so that the remote pool sees exactly what a worker of its own
 * would have answered: a chunk that fails at an item, a worker that crashed, a result that could
 * not be copied.
 *
 *   relay.run(spec, mode, payload) ─▶ Job ─▶ Scheduler ─▶ local workers ─▶ owner ─▶ [status, value]
 */
import { encodeThrown } from './error-codec.js';
import type { Executor } from './executor.js';
import { PoolStateError } from './errors.js';
import { Job, type JobOwner } from './job.js';
import { Scheduler } from './scheduler/index.js';
import { FnRegistry } from './task.js';
import { ResultStatus, RunMode, type FnSpec, type WorkerInit } from './wire.js';

/** How a relayed task ended, as a worker answers it: `[status, value]` (see wire.ts). */
export type WireOutcome = readonly [status: ResultStatus, value: unknown];

/** A relayed task: its outcome to come, and a way to withdraw it. */
export interface RelayedTask {
  readonly outcome: Promise<WireOutcome>;
  /**
   * Withdraws the task: a queued one never runs; a running one that runs alone has its worker
   * stopped and replaced; any other running one finishes and its result is dropped. The outcome
   * then resolves with `PoolStateError`, thrown.
   */
  cancel(): void;
}

export interface RelayOptions {
  readonly executor: Executor;
  /** The context name, for messages. */
  readonly context: string;
  /** Workers of the local pool. */
  readonly size: number;
  readonly init: WorkerInit;
  /** Jobs per worker before it is replaced; `Infinity` for never. */
  readonly maxTasksPerChild: number;
}

interface Pending {
  resolve(outcome: WireOutcome): void;
}

/**
 * A task's result, or a chunk's results, as they travel on to the remote pool: a chunk's numbers,
 * which the local codec may hand over as a Float64Array that it reuses, become an array.
 */
function ownValue(value: unknown): unknown {
  return value instanceof Float64Array ? Array.from(value) : value;
}

const relayOwner: JobOwner<Pending> = {
  jobSucceeded(job, value) {
    // A task's own result travels as it is: a Float64Array it returned stays one.
    job.mark.resolve([ResultStatus.Ok, job.mode === RunMode.Apply ? value : ownValue(value)]);
  },
  jobFailed(job, error, before) {
    if (before === undefined) job.mark.resolve([ResultStatus.Threw, encodeThrown(error)]);
    else job.mark.resolve([ResultStatus.ChunkThrew, [before.length, before, encodeThrown(error)]]);
  },
};

/** A local pool run task by task at the wire protocol's level; see the file's comment. */
export class WireRelay {
  readonly #scheduler: Scheduler;
  readonly #functions = new FnRegistry();

  constructor(options: RelayOptions) {
    this.#scheduler = new Scheduler({
      executor: options.executor,
      context: options.context,
      size: options.size,
      // A worker machine's pool runs jobs as they come: its workers all start with it.
      startAtOnce: options.size,
      init: options.init,
      maxTasksPerChild: options.maxTasksPerChild,
      // Not timed here: the pool that sent the job times its tasks, and stops them when they run late.
      startTimeoutMs: Infinity,
    });
  }

  /**
   * Runs one task. `alone`: it runs with nothing else on its worker, so that `cancel()` can stop
   * it (as a task with a timeout or a signal does in a pool).
   */
  run(spec: FnSpec, mode: RunMode, payload: unknown, alone: boolean): RelayedTask {
    let resolve!: (outcome: WireOutcome) => void;
    const outcome = new Promise<WireOutcome>((done) => {
      resolve = done;
    });
    const broken = this.#scheduler.broken;
    if (broken !== undefined || this.#scheduler.state !== 'running') {
      const error = broken ?? new PoolStateError(`The local pool is ${this.#scheduler.state}`);
      resolve([ResultStatus.Threw, encodeThrown(error)]);
      return { outcome, cancel: () => undefined };
    }
    const weight = mode === RunMode.Apply ? 1 : (payload as ArrayLike<unknown>).length;
    const job = new Job(this.#functions.forSpec(spec), mode, payload, weight, relayOwner, { resolve }, { timeoutMs: Infinity, signal: undefined, stoppable: alone });
    this.#scheduler.submit(job);
    return {
      outcome,
      cancel: () => {
        this.#scheduler.cancel(job);
        resolve([ResultStatus.Threw, encodeThrown(new PoolStateError('The task was withdrawn by its pool'))]);
      },
    };
  }

  /** Milliseconds the local workers have reported busy, all told. */
  get busyMs(): number {
    return this.#scheduler.busyMs;
  }

  /** Takes no more tasks; resolves once the workers have finished what they have and exited. */
  close(): Promise<void> {
    this.#scheduler.close();
    return this.#scheduler.allExited;
  }

  /** Stops every worker now; what is pending fails with `PoolStateError`. */
  terminate(): Promise<void> {
    this.#scheduler.terminate(new PoolStateError('The local pool was terminated before this task finished'));
    return this.#scheduler.allExited;
  }
}
