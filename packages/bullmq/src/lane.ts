/**
 * A lane: what the scheduler sees as one worker of a 'bullmq' pool. It has no thread or process
 * of its own: each RUN message it is sent becomes one BullMQ job (its tasks run together on
 * whichever mpool-worker takes it), and each job's results come back as one RESULTS message, in
 * the order the messages were sent, as a worker answers. A pool of `processes` lanes keeps that
 * many tasks or chunks, or batches of tiny tasks, in flight on the cluster.
 *
 *   [RUN …] ─▶ segment (tasks that cannot go: answered here) ─▶ job ─▶ … ─▶ results ─▶ [RESULTS …]
 *
 * A job that fails (BullMQ gave up on it: it stalled on every worker that took it) ends the lane
 * as a crash ends a worker: the scheduler fails its one task, or runs its tasks again, each alone.
 * A job out when Redis was lost fails its tasks with ConnectionLostError, and the lane lives on:
 * its next jobs fail the same way at once until Redis is back, then run (redis-link.ts).
 */
import { MessagePort } from 'node:worker_threads';
import { isPluginHandle, MessageKind, ResultStatus, RunMode, type FnDef, type FnSpec, type WorkerEvents, type WorkerHandle } from '@mpool/core';
import { encodeThrown } from '@mpool/core/worker';
import { JOB_FORMAT, pack, unpack, type JobData } from './job-codec.js';
import { specForCluster } from './module-paths.js';
import type { JobEnd, RedisLink } from './redis-link.js';

/** What a lane needs of its pool: where jobs go, and what they all carry. */
export interface LaneContext {
  readonly link: RedisLink;
  readonly poolId: string;
  readonly root: string;
  /** The pool's setup, packed once (see job-codec.ts), or why it cannot travel. */
  readonly setup: { readonly packed: string; readonly key: string } | Error;
}

/** One RUN message: its tasks' outcomes, those answered here and those the job brings. */
interface Segment {
  readonly count: number;
  /** Outcomes known without a job, by task index. */
  readonly local: Map<number, [ResultStatus, unknown]>;
  readonly jobId: string | undefined;
  /** The job's results, `[busyMs, status, value, …]`, once it has ended. */
  remote: unknown[] | undefined;
}

const PORT_ACROSS_MACHINES = "a MessagePort cannot cross machines: the 'bullmq' context runs tasks on other machines; ports move between threads only";
const SHARED_ACROSS_MACHINES = "a shared object of a Manager cannot cross machines: the 'bullmq' context runs tasks on other machines, which cannot reach the objects of this one; pass plain values, or keep the state in Redis or a database";

/** Whether a task's payload holds a shared object's handle (where a worker would look for one). */
function holdsShared(mode: RunMode, payload: unknown): boolean {
  if (!Array.isArray(payload)) return false;
  for (const item of payload) {
    if (isPluginHandle(item)) return true;
    if (mode === RunMode.Starmap && Array.isArray(item) && item.some(isPluginHandle)) return true;
  }
  return false;
}

export class Lane implements WorkerHandle {
  readonly id: number;
  readonly #context: LaneContext;
  readonly #events: WorkerEvents;
  /** Function specs as they travel, by the pool's function id; or why one cannot. */
  readonly #specs = new Map<number, FnSpec | TypeError>();
  readonly #segments: Segment[] = [];
  #nextJob = 0;
  #stopping = false;
  #ended = false;
  #referenced = false;

  constructor(id: number, context: LaneContext, events: WorkerEvents, initargs: readonly unknown[]) {
    this.id = id;
    this.#context = context;
    this.#events = events;
    const { setup } = context;
    const refusal = setup instanceof Error ? setup : initargs.some(isPluginHandle) ? new TypeError(`initargs hold ${SHARED_ACROSS_MACHINES}`) : undefined;
    context.link.ready.then(
      () => {
        if (refusal === undefined) this.#tell([MessageKind.Ready]);
        else this.#tell([MessageKind.InitFailed, encodeThrown(refusal)]);
      },
      (error: unknown) => this.#tell([MessageKind.InitFailed, encodeThrown(error)]),
    );
  }

  /** `transfer`: a cluster copies what the codec would move; a MessagePort cannot cross machines. */
  send(message: unknown[], transfer?: readonly unknown[]): void {
    if (this.#ended) return;
    switch (message[0]) {
      case MessageKind.Run:
        // As an argument that cannot be copied: the scheduler fails that task alone with DataCloneError.
        if (transfer?.some((item) => item instanceof MessagePort) === true) throw new TypeError(PORT_ACROSS_MACHINES);
        this.#run(message);
        break;
      case MessageKind.Stop:
        this.#stopping = true;
        this.#finishIfStopped();
        break;
      default:
        break;
    }
  }

  async terminate(): Promise<void> {
    this.#end({ code: 1, signal: null });
  }

  ref(): void {
    if (this.#referenced || this.#ended) return;
    this.#referenced = true;
    this.#context.link.ref();
  }

  unref(): void {
    if (!this.#referenced) return;
    this.#referenced = false;
    this.#context.link.unref();
  }

  #run(message: unknown[]): void {
    const defs = message[1] as readonly FnDef[] | 0;
    if (defs !== 0) {
      for (const [fnId, spec] of defs) {
        try {
          this.#specs.set(fnId, specForCluster(spec, this.#context.root));
        } catch (error) {
          this.#specs.set(fnId, error as TypeError);
        }
      }
    }
    const tasks: unknown[] = [];
    const local = new Map<number, [ResultStatus, unknown]>();
    let count = 0;
    for (let i = 2; i < message.length; i += 3, count++) {
      const spec = this.#specs.get(message[i] as number);
      const mode = message[i + 1] as RunMode;
      const payload = message[i + 2];
      if (holdsShared(mode, payload)) {
        // As an argument that cannot be copied: the scheduler fails that task alone with DataCloneError.
        throw new TypeError(SHARED_ACROSS_MACHINES);
      }
      if (spec === undefined || spec instanceof Error) {
        local.set(count, [ResultStatus.Threw, encodeThrown(spec ?? new Error('mpool protocol error: a task of a function never defined'))]);
        continue;
      }
      tasks.push(spec, mode, payload);
    }
    // Throws (sending nothing) for an argument that cannot be copied, as a worker's channel does.
    const packedTasks = tasks.length === 0 ? undefined : pack(tasks);
    const setup = this.#context.setup as { packed: string; key: string };
    const jobId = packedTasks === undefined ? undefined : `${this.#context.poolId}-${this.id}-${this.#nextJob++}`;
    const segment: Segment = { count, local, jobId, remote: jobId === undefined ? [0] : undefined };
    this.#segments.push(segment);
    if (jobId === undefined) {
      queueMicrotask(() => this.#flush());
      return;
    }
    const data: JobData = { v: JOB_FORMAT, pool: this.#context.poolId, setupKey: setup.key, setup: setup.packed, tasks: packedTasks as string };
    this.#context.link.add(jobId, data, (end) => this.#jobEnded(segment, end));
  }

  #jobEnded(segment: Segment, end: JobEnd): void {
    if (this.#ended) return;
    if (!end.ok && end.lost !== undefined) {
      const thrown = encodeThrown(end.lost);
      segment.remote = [0];
      for (let i = segment.local.size; i < segment.count; i++) segment.remote.push(ResultStatus.Threw, thrown);
      this.#flush();
      return;
    }
    if (!end.ok) {
      this.#end({ code: null, signal: null, error: new Error(`BullMQ failed the job ${segment.jobId} of ${this.#context.link.where}: ${end.reason}`) });
      return;
    }
    try {
      segment.remote = unpack(end.value as string) as unknown[];
    } catch (error) {
      this.#end({ code: null, signal: null, error: new Error(`The results of the job ${segment.jobId} could not be read`, { cause: error }) });
      return;
    }
    this.#flush();
  }

  /** Answers the finished messages at the head of the line, in order. */
  #flush(): void {
    while (this.#segments.length > 0 && this.#segments[0].remote !== undefined) {
      const segment = this.#segments.shift() as Segment;
      const remote = segment.remote as unknown[];
      const results: unknown[] = [MessageKind.Results, remote[0]];
      for (let i = 0, r = 1; i < segment.count; i++) {
        const mine = segment.local.get(i);
        if (mine !== undefined) results.push(mine[0], mine[1]);
        else results.push(remote[r++], remote[r++]);
      }
      this.#tell(results);
    }
    this.#finishIfStopped();
  }

  #finishIfStopped(): void {
    if (this.#stopping && this.#segments.length === 0) this.#end({ code: 0, signal: null });
  }

  #tell(message: unknown[]): void {
    if (!this.#ended) this.#events.message(message);
  }

  /** Ends the lane: its jobs still out are withdrawn, and the scheduler hears it exit. */
  #end(info: { code: number | null; signal: null; error?: unknown }): void {
    if (this.#ended) return;
    this.#ended = true;
    this.unref();
    for (const segment of this.#segments.splice(0)) {
      if (segment.jobId !== undefined && segment.remote === undefined) this.#context.link.withdraw(segment.jobId);
    }
    queueMicrotask(() => this.#events.exit(info));
  }
}
