/**
 * How much work to send to which worker: pure functions of what each worker has in flight and
 * of how long an item takes, so that the policy can be read, and tested, on its own.
 *
 * How much goes to a worker at once adapts to the work. The pool keeps an estimate of how long
 * one item takes (`DurationEstimate`, from the busy time the workers report) and keeps about
 * PIPELINE_TARGET_MS of work in flight per worker: its pipeline depth, in items. So a worker
 * never waits for its next message, tiny tasks travel hundreds to a message, and long tasks go
 * one at a time, which keeps the load even.
 *
 * What one worker may be sent in one dispatch is its `Allowance`, the one quantity the scheduler
 * speaks of: its pipeline depth less what it has in flight, and no more than its fair share of
 * the queue (the queue's weight over the workers that take work or soon will), sent in messages
 * of at most half the depth, so that the worker holds the next message while it runs this one.
 * Beyond that, map chunks too big for the depth but short (under SHORT_JOB_MS) may use up the
 * rest of the fair share: they queue behind each other and travel several to a message.
 */

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
/** A job expected to take less than this may wait on a worker behind another (see mayQueueBehind). */
const SHORT_JOB_MS = 2;

/** A worker as the policy sees it. */
export interface WorkerLoad {
  /** It has started and takes work. */
  readonly ready: boolean;
  /** It is still starting. */
  readonly starting: boolean;
  /** Jobs it may still be given. */
  readonly quota: number;
  /** It runs a job that runs alone, and gets nothing else meanwhile. */
  readonly isolating: boolean;
  /** Jobs in flight on it. */
  readonly inFlightCount: number;
  /** Items in flight on it. */
  readonly inFlightWeight: number;
  /** Whether its oldest job in flight runs alone. */
  readonly oldestAlone: boolean;
  /** When it last made progress (`performance.now()`): was sent work while idle, or answered. */
  readonly lastProgress: number;
}

/** A job as the policy sees it. */
export interface JobLoad {
  /** Its items: 1 for a task, the chunk's length for a chunk. */
  readonly weight: number;
  /** It runs alone on its worker. */
  readonly alone: boolean;
}

/** How long one item takes, in ms, from the busy time workers report: NaN until known. */
export class DurationEstimate {
  #perItemMs = Number.NaN;

  get perItemMs(): number {
    return this.#perItemMs;
  }

  /** A worker reports `busyMs` of work for `items` items. */
  sample(busyMs: number, items: number): void {
    if (!(busyMs > 0) || items <= 0) return;
    const sample = busyMs / items;
    this.#perItemMs = Number.isNaN(this.#perItemMs) ? sample : this.#perItemMs + ESTIMATE_SMOOTHING * (sample - this.#perItemMs);
  }
}

/**
 * Items in flight allowed per worker, from the estimate of an item's duration. Workers whose
 * messages take `roundTripMs` to answer even when the work is nothing (on other machines) are
 * given at least that much work, so that they do not wait on the round trip either.
 */
export function pipelineDepth(perItemMs: number, roundTripMs = 0): number {
  if (Number.isNaN(perItemMs)) return 1; // unknown yet: one at a time until we know
  if (perItemMs <= 0) return MAX_IN_FLIGHT;
  return Math.max(1, Math.min(MAX_IN_FLIGHT, Math.floor(Math.max(PIPELINE_TARGET_MS, roundTripMs) / perItemMs)));
}

/**
 * Whether `next`, a job too big for the pipeline depth (a map's chunk), may still wait on
 * `worker` behind the jobs it has: when it is short, and what the worker has ahead of it is too
 * (each under SHORT_JOB_MS). The worker then goes from one chunk to the next without waiting
 * for a round trip, tiny chunks travel several to a message, and no chunk waits long behind
 * others while another worker may be free.
 */
export function mayQueueBehind(worker: WorkerLoad, next: JobLoad | undefined, depth: number, perItemMs: number): boolean {
  if (next === undefined || next.alone || next.weight <= depth) return false;
  if (worker.inFlightCount === 0 || worker.oldestAlone) return false;
  return next.weight * perItemMs < SHORT_JOB_MS && worker.inFlightWeight * perItemMs < SHORT_JOB_MS;
}

/** What every allowance of one dispatch shares. */
interface Plan {
  readonly depth: number;
  /** The most items in one message: half the depth. */
  readonly perMessage: number;
  readonly perItemMs: number;
}

/** What one worker may be sent in one dispatch (see the header). */
export class Allowance<W extends WorkerLoad = WorkerLoad> {
  readonly worker: W;
  readonly #plan: Plan;
  /** Items it may still be sent: its pipeline depth less what it has, within its fair share. */
  #room: number;
  /** What is left of its fair share of the queue, which short chunks may use beyond `#room`. */
  #share: number;

  constructor(worker: W, share: number, plan: Plan) {
    this.worker = worker;
    this.#plan = plan;
    this.#room = Math.min(plan.depth - worker.inFlightWeight, share);
    this.#share = share;
  }

  /** Whether to send it a message now, `next` being the job at the head of the queue. */
  invites(next: JobLoad | undefined): boolean {
    const worker = this.worker;
    if (worker.isolating || worker.quota <= 0) return false;
    return this.#room > 0 || worker.inFlightCount === 0 || (this.#share > 0 && mayQueueBehind(worker, next, this.#plan.depth, this.#plan.perItemMs));
  }

  /**
   * Whether `job` may join a message that holds `weight` items already (a message always takes
   * its first job). In `round` 0, each worker's first message of a dispatch, only what fits the
   * room and a message goes; from the next round on, short chunks may go beyond (see the header).
   */
  admits(weight: number, job: JobLoad, round: number): boolean {
    const total = weight + job.weight;
    if (total <= Math.min(this.#room, this.#plan.perMessage)) return true;
    const shareLeft = round === 0 ? 0 : this.#share;
    return total <= shareLeft && mayQueueBehind(this.worker, job, this.#plan.depth, this.#plan.perItemMs);
  }

  /** `weight` items were sent to it. */
  spend(weight: number): void {
    this.#room -= weight;
    this.#share -= weight;
  }
}

/**
 * The workers to send to now, least loaded first, each with its allowance: the ready ones with
 * quota left that are not running something alone, nor stalled on something longer than the
 * estimate said (`roundTripMs`: how long the workers' messages take to answer, on other machines). Workers still starting count in the shares, so that a burst is not all given to
 * the first worker ready; what they do not get yet waits in the queue for whoever asks first.
 */
export function planDispatch<W extends WorkerLoad>(workers: Iterable<W>, queuedWeight: number, perItemMs: number, now: number, roundTripMs = 0): Allowance<W>[] {
  const depth = pipelineDepth(perItemMs, roundTripMs);
  // A worker answers no sooner than its round trip: only past that is it stalled.
  const stallMs = STALL_MS + roundTripMs;
  const plan: Plan = { depth, perMessage: Math.max(1, Math.ceil(depth / 2)), perItemMs };
  const takers: W[] = [];
  let starting = 0;
  for (const worker of workers) {
    if (worker.quota <= 0) continue;
    if (worker.starting) starting++;
    else if (worker.ready && !worker.isolating && (worker.inFlightCount === 0 || now - worker.lastProgress < stallMs)) takers.push(worker);
  }
  // Idle workers first, then the least loaded: work never queues behind a busy worker while
  // another is free.
  takers.sort((a, b) => a.inFlightWeight - b.inFlightWeight);
  const share = Math.ceil(queuedWeight / (takers.length + starting));
  return takers.map((worker) => new Allowance(worker, share, plan));
}
