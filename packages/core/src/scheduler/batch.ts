/**
 * Builds and posts RUN messages: several queued jobs to one worker in one message, within its
 * allowance (dispatch-policy.ts) and the byte limits below, each function's definition sent
 * before its first task on that worker, and each payload as the worker's codec writes it
 * (codec.ts). A payload the codec refuses (a buffer `transfer()` cannot move) fails its own job,
 * and the others go; a batch that cannot be copied goes again job by job, failing only the jobs
 * that cannot go; one that cannot be sent because the worker is going goes back to the queue.
 */
import { DataCloneError } from '../errors.js';
import { isWorkerGone, messageOf, tookBuffers } from '../exit-info.js';
import { payloadBytes, type Job } from '../job.js';
import { MessageKind, type FnDef } from '../wire.js';
import type { Allowance } from './dispatch-policy.js';
import type { JobQueue } from './job-queue.js';
import type { Recovery } from './recovery.js';
import type { Slot } from './slot.js';
import type { Workers } from './workers.js';

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

/** What `#encode` gives for a payload its codec refused (the job has failed). */
const REFUSED: unique symbol = Symbol('refused');

export class Batcher {
  readonly #queue: JobQueue;
  readonly #workers: Workers;
  readonly #recovery: Recovery;

  constructor(queue: JobQueue, workers: Workers, recovery: Recovery) {
    this.#queue = queue;
    this.#workers = workers;
    this.#recovery = recovery;
  }

  /**
   * Sends one message of queued jobs to `slot`, as much as its allowance admits in dispatch round
   * `round`; returns the weight sent.
   */
  send(slot: Slot, allowance: Allowance<Slot>, round: number): number {
    const message: unknown[] = [MessageKind.Run, 0];
    let defs: FnDef[] | undefined;
    let weight = 0;
    let count = 0;
    let bytes = 0;
    const start = slot.inFlight.length;
    if (start === 0) slot.lastProgress = performance.now();
    while (slot.quota > 0) {
      const job = this.#queue.next();
      if (job === undefined) break;
      // Always at least one job per message; a job that runs alone goes to an idle worker.
      if (count > 0) {
        if (job.alone || bytes + payloadBytes(job) > MESSAGE_MAX_BYTES) break;
        if (!allowance.admits(weight, job, round)) break;
      }
      if (job.alone && slot.inFlight.length > 0) break;
      if (slot.inFlight.length > 0 && slot.inFlightBytes + payloadBytes(job) > MAX_IN_FLIGHT_BYTES) break;
      this.#queue.take();
      const payload = this.#encode(slot, job);
      if (payload === REFUSED) continue;
      if (!slot.known.has(job.fn.id)) {
        slot.known.add(job.fn.id);
        (defs ??= []).push([job.fn.id, job.fn.spec]);
      }
      message.push(job.fn.id, job.mode, payload);
      slot.add(job);
      slot.quota--;
      weight += job.weight;
      bytes += payloadBytes(job);
      count++;
      if (job.alone) {
        slot.isolating = true;
        this.#recovery.startClock(slot, job);
        break;
      }
    }
    if (count === 0) return 0;
    if (defs !== undefined) message[1] = defs;
    this.#workers.announcePlugins(slot);
    try {
      slot.codec.post(slot.handle, message);
    } catch (error) {
      const jobs = this.#takeBack(slot, start, defs);
      if (isWorkerGone(error)) this.#recovery.workerGone(slot, jobs, tookBuffers(error));
      else this.#sendOneByOne(slot, jobs, error);
    }
    if (slot.quota <= 0) this.#workers.fill(); // its replacement boots while it finishes
    return weight;
  }

  /** `job`'s payload as `slot`'s codec writes it, or REFUSED when the codec cannot: then the job fails alone. */
  #encode(slot: Slot, job: Job): unknown {
    try {
      return slot.codec.encode(job.mode, job.payload);
    } catch (error) {
      this.#queue.fail(job, argumentsError(error));
      return REFUSED;
    }
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
      const payload = this.#encode(slot, job);
      if (payload === REFUSED) continue;
      const fresh = !slot.known.has(job.fn.id);
      const message: unknown[] = [MessageKind.Run, fresh ? [[job.fn.id, job.fn.spec]] : 0, job.fn.id, job.mode, payload];
      this.#workers.announcePlugins(slot);
      try {
        slot.codec.post(slot.handle, message);
      } catch (error) {
        if (isWorkerGone(error)) {
          this.#recovery.workerGone(slot, jobs.slice(i), tookBuffers(error));
          return;
        }
        this.#queue.fail(job, argumentsError(error ?? batchError));
        continue;
      }
      if (fresh) slot.known.add(job.fn.id);
      slot.add(job);
      slot.quota--;
      if (job.alone) slot.isolating = true;
    }
  }
}

/** Why a task's arguments could not go to its worker, for its owner. */
function argumentsError(error: unknown): DataCloneError {
  return new DataCloneError(`The arguments of a task could not be copied to its worker: ${messageOf(error)}`, { cause: error });
}
