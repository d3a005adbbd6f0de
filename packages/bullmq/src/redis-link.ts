/**
 * A pool's link to its queue: the Redis connections, the BullMQ `Queue` it adds jobs with, and
 * the `QueueEvents` it hears them finish on. Lanes (lane.ts) add jobs and are told how each
 * ended; the link does the Redis work for all of them.
 *
 *   lane.add(id) ─▶ watches[id] ─▶ addBulk (one per turn of the event loop) ─▶ Redis ─▶ mpool-worker
 *   QueueEvents 'completed'/'failed' ─▶ watches[id] ─▶ lane; then the job is removed from Redis
 *   sweep (every SWEEP_MS): jobs whose event never came are read back; withdrawn ones removed;
 *                           Redis probed (liveness.ts)
 *
 * Job ids are chosen here, up front, and every watch is in place before its job is added: a
 * job's events may come before `addBulk` returns. QueueEvents reads from the events stream's last
 * entry as it was before the first job, so that none of the pool's events can pass unseen; it is
 * still best effort (the stream is trimmed), hence the sweep.
 * An idle pool lets its program end: its connections are unreferenced, and the feed of events
 * closes (event-feed.ts).
 *
 * While Redis is away, jobs wait in the link and go once it is back; when it comes back as a new
 * run that lost the pool's jobs, they are added again (their tasks run again: at least once).
 * When it does not answer for startTimeout, the jobs out fail with ConnectionLostError, as does
 * new work until it answers again; the link's close never waits for it longer than bounded.
 */
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { createClient, describeConnection, keepAlive, type Connection } from './connection.js';
import { answeredBy, settlesWithin } from './deadline.js';
import { EventFeed, type JobEnd } from './event-feed.js';
import type { JobData } from './job-codec.js';
import { startLink, WORKER_POLL_MS } from './link-start.js';
import { Liveness } from './liveness.js';
import { Removals } from './removals.js';

/**
 * Seconds a completed job whose result no pool read stays in Redis: a pool reads its results within
 * moments (late events included, see the sweep), so only the jobs of a program that died before it
 * could are left that long; BullMQ removes them once they are older, so they never pile up.
 */
const COMPLETED_JOB_KEEP_S = 3600;

/** How often jobs whose event is late are read back, and withdrawn jobs removed. */
const SWEEP_MS = 1000;
/** A job is read back once it has been out this long without an event. */
const LATE_MS = 2000;
/** The most jobs read back in one sweep: each is a round trip. */
const SWEEP_BATCH = 64;
/** The name every job of mpool has in BullMQ (for people looking at the queue). */
export const JOB_NAME = 'mpool';
/** A withdrawn job that is still running somewhere is given this long to end before the pool stops waiting for it. */
const WITHDRAW_LIMIT_MS = 10_000;
/**
 * How long closing the feed and the queue may take: a moment when Redis answers, forever when it
 * is gone (BullMQ's close waits for its blocking read); past it their connections are cut.
 */
const CLOSE_LIMIT_MS = 1000;

export type { JobEnd };

/** A job as it is added, kept until its end: a Redis that restarts without it gets it again. */
interface JobToAdd {
  readonly name: string;
  readonly data: JobData;
  readonly opts: JobsOptions & { readonly jobId: string };
}

interface Watch {
  /** When it was (last) added. */
  since: number;
  /** addBulk has put it in Redis. */
  added: boolean;
  readonly job: JobToAdd;
  readonly done: (end: JobEnd) => void;
}

/** The channel a pool's withdrawn jobs are named on, for the worker running one to stop it. */
export function cancelChannel(queueKeyPrefix: string): string {
  return `${queueKeyPrefix}:mpool:cancel`;
}

export interface LinkOptions {
  readonly connection: Connection;
  readonly queue: string;
  readonly startTimeoutMs: number;
}

export class RedisLink {
  readonly #options: LinkOptions;
  readonly #client: Redis;
  readonly #liveness: Liveness;
  /** Since when the sweep has found no worker serving the queue while jobs were out. */
  #noWorkerSince: number | undefined;
  readonly #queue: Queue;
  readonly #feed: EventFeed;
  readonly #watches = new Map<string, Watch>();
  /** Jobs given up on (their pool was terminated, their lane stopped): removed once they stop running. */
  readonly #withdrawn = new Map<string, number>();
  /** Jobs to add at the next turn, or once Redis is back. */
  #adds: JobToAdd[] = [];
  readonly #removals: Removals;
  #sweeper: NodeJS.Timeout | undefined;
  /** A sweep's round trips are under way (they wait while Redis is away). */
  #sweeping = false;
  #referenced = 0;
  #closed = false;
  /** Aborted when the link closes: a start still under way gives up. */
  readonly #closing = new AbortController();
  /** Resolves once Redis answers and a worker serves the queue; rejects with why not. */
  readonly ready: Promise<void>;

  constructor(options: LinkOptions) {
    this.#options = options;
    this.#client = createClient(options.connection);
    this.#watchClient(this.#client);
    this.#liveness = new Liveness(this.#client, options.startTimeoutMs, this.where, {
      lost: (error) => {
        this.#adds = [];
        this.#failAll({ ok: false, reason: error.message, lost: error });
      },
      back: (restarted) => this.#redisBack(restarted),
    });
    this.#queue = new Queue(options.queue, { connection: this.#client });
    this.#queue.on('error', () => undefined);
    this.#feed = new EventFeed(options.queue, this.#client, (id, end) => this.#ended(id, end));
    this.#removals = new Removals(this.#queue);
    const parts = { options, where: this.where, client: this.#client, queue: this.#queue, feed: this.#feed, liveness: this.#liveness, closing: this.#closing.signal };
    this.ready = startLink(parts).catch(async (error: unknown) => {
      await settlesWithin(this.#feed.close(), CLOSE_LIMIT_MS);
      this.#client.disconnect();
      throw error;
    });
    this.ready.catch(() => undefined);
  }

  /** The queue and connection, as messages name them. */
  get where(): string {
    return `the queue '${this.#options.queue}' on ${describeConnection(this.#options.connection)}`;
  }

  /**
   * Watches job `id`, then adds it (with others added in the same turn, in one call); while Redis
   * is lost, it fails at once.
   */
  add(id: string, data: JobData, done: (end: JobEnd) => void): void {
    const lost = this.#liveness.lost;
    if (lost !== undefined) {
      queueMicrotask(() => done({ ok: false, reason: lost.message, lost }));
      return;
    }
    // Kept once complete, until its result is read (the event may be missed), or, when the pool's
    // program died before it could read it, until BullMQ drops it at COMPLETED_JOB_KEEP_S; a
    // failed job has nothing to read but its reason, which its event carries, and is removed by
    // BullMQ: a job withdrawn while it ran is failed by its worker (serve.ts).
    const job: JobToAdd = { name: JOB_NAME, data, opts: { jobId: id, attempts: 1, removeOnComplete: { age: COMPLETED_JOB_KEEP_S }, removeOnFail: true } };
    this.#watches.set(id, { since: Date.now(), added: false, job, done });
    this.#queueAdd(job);
    this.#startSweeping();
  }

  /**
   * Gives up on job `id`: no news of it is passed on any more; it is removed from Redis, or, if a
   * worker is running it, that worker is asked to stop it and it is removed once it has.
   */
  withdraw(id: string): void {
    if (!this.#watches.delete(id) && this.#withdrawn.has(id)) return;
    this.#withdrawn.set(id, Date.now());
    this.#startSweeping();
    void this.#discard(id);
  }

  /** Lanes with work keep the program alive, through the link's connections. */
  ref(): void {
    if (this.#referenced++ === 0) this.#applyRefs();
  }

  unref(): void {
    if (--this.#referenced === 0) this.#applyRefs();
  }

  /**
   * Waits (a while) for withdrawn jobs to be gone, then closes the connections. Jobs still
   * watched are withdrawn first: the pool that added them is done.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closing.abort(new Error(`the pool was closed before it reached ${this.where}`));
    this.#adds = [];
    for (const id of [...this.#watches.keys()]) this.withdraw(id);
    // Each wait is bounded: a Redis that went away may never answer.
    const giveUpAt = Date.now() + WITHDRAW_LIMIT_MS;
    while (this.#withdrawn.size > 0 && Date.now() < giveUpAt && (await this.#reachable())) {
      if (!(await answeredBy(this.#client, Promise.all([...this.#withdrawn.keys()].map((id) => this.#discard(id))), giveUpAt))) break;
      if (this.#withdrawn.size > 0) await new Promise((resolve) => setTimeout(resolve, WORKER_POLL_MS));
    }
    const removing = this.#removals.flush();
    if (await this.#reachable()) await answeredBy(this.#client, removing, giveUpAt);
    this.#closed = true;
    this.#liveness.close();
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    const closing = Promise.allSettled([this.#feed.close(), this.#queue.close()]);
    await settlesWithin(closing, this.#client.status === 'ready' ? CLOSE_LIMIT_MS : 0);
    this.#client.disconnect();
  }

  /** Whether the link started and Redis answers now. */
  async #reachable(): Promise<boolean> {
    try {
      await this.ready;
      return this.#client.status === 'ready' && this.#liveness.lost === undefined;
    } catch {
      return false;
    }
  }

  #queueAdd(job: JobToAdd): void {
    if (this.#adds.length === 0) queueMicrotask(() => this.#flushAdds());
    this.#adds.push(job);
  }

  /** Adds the jobs queued; while Redis is away they wait for it (see #redisBack). */
  #flushAdds(): void {
    if (this.#closed || this.#adds.length === 0 || this.#client.status !== 'ready') return;
    const adds = this.#adds;
    this.#adds = [];
    // One job alone goes by add, a single script call; addBulk wraps its calls in a transaction.
    const adding = adds.length === 1 ? this.#queue.add(adds[0]!.name, adds[0]!.data, adds[0]!.opts) : this.#queue.addBulk(adds);
    adding.then(() => {
      for (const { opts } of adds) {
        const watch = this.#watches.get(opts.jobId);
        if (watch !== undefined) watch.added = true;
      }
    }, (error: unknown) => {
      if (this.#client.status !== 'ready') {
        // Cut off on the way: sent again once Redis is back (a job id already added is not added twice).
        this.#adds.push(...adds.filter(({ opts }) => this.#watches.has(opts.jobId)));
        return;
      }
      const reason = error instanceof Error ? error.message : String(error);
      for (const { opts } of adds) this.#ended(opts.jobId, { ok: false, reason: `the job could not be added to ${this.where}: ${reason}` });
    });
  }

  /** Every job out ends with `end`, and is withdrawn (removed, should Redis have it still). */
  #failAll(end: JobEnd & { ok: false }): void {
    const now = Date.now();
    for (const [id, watch] of [...this.#watches]) {
      this.#watches.delete(id);
      this.#withdrawn.set(id, now);
      watch.done(end);
    }
  }

  /**
   * Redis answers again. A new run of it may have lost the jobs out (it keeps no data, or not the
   * last of it): they are added again, under the same ids, and their tasks run again, which is
   * said in a warning. Then the jobs that waited for Redis go.
   */
  async #redisBack(restarted: boolean): Promise<void> {
    const out = restarted ? [...this.#watches].filter(([, watch]) => watch.added) : [];
    const kept = out.length === 0 ? [] : await this.#client.pipeline(out.map(([id]) => ['exists', this.#queue.toKey(id)])).exec().catch(() => null);
    const lost = out.filter(([id, watch], i) => kept?.[i]?.[1] === 0 && this.#watches.get(id) === watch);
    for (const [id, watch] of lost) {
      // Last in the map, as the sweep expects (in order of adding).
      this.#watches.delete(id);
      this.#watches.set(id, watch);
      watch.since = Date.now();
      watch.added = false;
      this.#queueAdd(watch.job);
    }
    if (lost.length > 0) {
      process.emitWarning(`Redis restarted without ${lost.length} job(s) of a pool on ${this.where}: they were added again, so their tasks run again, though a worker may have run them before (at least once)`, { code: 'MPOOL_REDIS_RESTARTED' });
    }
    this.#flushAdds();
  }

  #ended(id: string, end: JobEnd): void {
    const watch = this.#watches.get(id);
    if (watch !== undefined) {
      this.#watches.delete(id);
      this.#removals.add(id);
      watch.done(end);
    } else if (this.#withdrawn.has(id)) {
      void this.#discard(id);
    }
  }

  /** Removes a withdrawn job, or asks the worker running it to stop it. */
  async #discard(id: string): Promise<void> {
    let removed = false;
    try {
      removed = (await this.#queue.remove(id)) === 1 || (await this.#queue.getJobState(id)) === 'unknown';
    } catch {
      removed = false; // locked: a worker is running it
    }
    if (removed) {
      this.#withdrawn.delete(id);
      return;
    }
    await this.#client.publish(cancelChannel(this.#queue.qualifiedName), id).catch(() => undefined);
  }

  #startSweeping(): void {
    if (this.#sweeper !== undefined || this.#closed) return;
    this.#sweeper = setInterval(() => void this.#sweep(), SWEEP_MS);
    this.#sweeper.unref();
  }

  /**
   * Probes Redis, reads back jobs whose event is late, and tries again to remove withdrawn ones;
   * while Redis is away, one sweep waits for it and the next ones only probe.
   */
  async #sweep(): Promise<void> {
    if (this.#watches.size === 0 && this.#withdrawn.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
      return;
    }
    this.#liveness.probe(this.#referenced > 0);
    if (this.#sweeping || this.#liveness.lost !== undefined) return;
    this.#sweeping = true;
    try {
      await this.#sweepOnce();
    } finally {
      this.#sweeping = false;
    }
  }

  async #sweepOnce(): Promise<void> {
    const lateBefore = Date.now() - LATE_MS;
    const late: string[] = [];
    for (const [id, watch] of this.#watches) {
      if (watch.since > lateBefore) break; // in order of adding: the rest are younger
      late.push(id);
      if (late.length === SWEEP_BATCH) break;
    }
    await Promise.all(late.map((id) => this.#readBack(id)));
    await Promise.all([...this.#withdrawn.keys()].slice(0, SWEEP_BATCH).map((id) => this.#discard(id)));
    await this.#checkWorkers();
  }

  /**
   * Jobs out with no worker serving the queue for startTimeout would wait for one forever: they
   * fail instead, as their workers would have crashed, and are withdrawn (removed once their
   * locks, if any, expire).
   */
  async #checkWorkers(): Promise<void> {
    if (this.#watches.size === 0) {
      this.#noWorkerSince = undefined;
      return;
    }
    let workers: number;
    try {
      workers = await this.#queue.getWorkersCount();
    } catch {
      return; // Redis is away for now
    }
    const now = Date.now();
    if (workers > 0) {
      this.#noWorkerSince = undefined;
      return;
    }
    this.#noWorkerSince ??= now;
    if (now - this.#noWorkerSince < this.#options.startTimeoutMs) return;
    this.#failAll({ ok: false, reason: `no mpool-worker has served ${this.where} for ${this.#options.startTimeoutMs} ms (the pool's startTimeout)` });
  }

  async #readBack(id: string): Promise<void> {
    try {
      const job = await this.#queue.getJob(id);
      if (job === undefined) {
        // Added, then gone without its event: failed and removed (see add), or removed by hand;
        // unless Redis dropped the link meanwhile, and may have lost it (see #redisBack).
        if (this.#watches.get(id)?.added === true && this.#liveness.steady) this.#ended(id, { ok: false, reason: 'the job is gone from Redis: it failed, or was removed' });
        return;
      }
      if (job.finishedOn === undefined) return;
      if (job.failedReason !== undefined && job.failedReason !== '') this.#ended(id, { ok: false, reason: job.failedReason });
      else this.#ended(id, { ok: true, value: job.returnvalue });
    } catch {
      // Redis is away for now: the next sweep tries again.
    }
  }

  /** ioredis reports a failed connection as an error event too: the ready check reads it. */
  #watchClient(client: Redis): void {
    client.on('error', () => undefined);
    client.on('connect', () => this.#applyRef(client));
    client.on('reconnecting', () => this.#applyRef(client));
    this.#applyRef(client);
  }

  #applyRefs(): void {
    this.#applyRef(this.#client);
    if (this.#referenced > 0) this.ready.then(() => this.#referenced > 0 && this.#feed.busy(), () => undefined);
    else this.#feed.idle();
  }

  #applyRef(client: Redis): void {
    keepAlive(client, this.#referenced > 0);
  }
}
