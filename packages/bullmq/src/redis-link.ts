/**
 * A pool's link to its queue: the Redis connections, the BullMQ `Queue` it adds jobs with, and
 * the `QueueEvents` it hears them finish on. Lanes (lane.ts) add jobs and are told how each
 * ended; the link does the Redis work for all of them.
 *
 *   lane.add(id) ─▶ watches[id] ─▶ addBulk (one per turn of the event loop) ─▶ Redis ─▶ mpool-worker
 *   QueueEvents 'completed'/'failed' ─▶ watches[id] ─▶ lane; then the job is removed from Redis
 *   sweep (every SWEEP_MS): jobs whose event never came are read back; withdrawn ones removed
 *
 * Job ids are chosen here, up front, and every watch is in place before its job is added: a
 * job's events may come before `addBulk` returns. QueueEvents reads from the events stream's last
 * entry as it was before the first job, so that none of the pool's events can pass unseen; it is
 * still best effort (the stream is trimmed), hence the sweep.
 * An idle pool lets its program end: its connections are unreferenced, and the feed of events
 * closes (event-feed.ts).
 */
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { createClient, describeConnection, type Connection } from './connection.js';
import { EventFeed, type JobEnd } from './event-feed.js';
import type { JobData } from './job-codec.js';

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
/** How often the link looks for a worker serving the queue while it waits for the first. */
const WORKER_POLL_MS = 50;
/** Finished jobs are removed together, this long after the first of them (see #remove). */
const REMOVAL_DELAY_MS = 500;
/** The name every job of mpool has in BullMQ (for people looking at the queue). */
export const JOB_NAME = 'mpool';
/** A withdrawn job that is still running somewhere is given this long to end before the pool stops waiting for it. */
const WITHDRAW_LIMIT_MS = 10_000;

export type { JobEnd };

interface Watch {
  readonly since: number;
  /** addBulk has put it in Redis. */
  added: boolean;
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
  /** Since when the sweep has found no worker serving the queue while jobs were out. */
  #noWorkerSince: number | undefined;
  readonly #queue: Queue;
  readonly #feed: EventFeed;
  readonly #watches = new Map<string, Watch>();
  /** Jobs given up on (their pool was terminated, their lane stopped): removed once they stop running. */
  readonly #withdrawn = new Map<string, number>();
  #adds: { name: string; data: JobData; opts: JobsOptions }[] = [];
  /** Finished jobs to remove (see #remove), and the removals under way. */
  #removals: string[] = [];
  #removalTimer: NodeJS.Timeout | undefined;
  readonly #removing = new Set<Promise<void>>();
  #sweeper: NodeJS.Timeout | undefined;
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
    this.#queue = new Queue(options.queue, { connection: this.#client });
    this.#queue.on('error', () => undefined);
    this.#feed = new EventFeed(options.queue, this.#client, (id, end) => this.#ended(id, end));
    this.ready = this.#prepare();
    this.ready.catch(() => undefined);
  }

  /** The queue and connection, as messages name them. */
  get where(): string {
    return `the queue '${this.#options.queue}' on ${describeConnection(this.#options.connection)}`;
  }

  /** Watches job `id`, then adds it (with others added in the same turn, in one call). */
  add(id: string, data: JobData, done: (end: JobEnd) => void): void {
    this.#watches.set(id, { since: Date.now(), added: false, done });
    if (this.#adds.length === 0) queueMicrotask(() => this.#flushAdds());
    // Kept once complete, until its result is read (the event may be missed), or, when the pool's
    // program died before it could read it, until BullMQ drops it at COMPLETED_JOB_KEEP_S; a
    // failed job has nothing to read but its reason, which its event carries, and is removed by
    // BullMQ: a job withdrawn while it ran is failed by its worker (serve.ts).
    this.#adds.push({ name: JOB_NAME, data, opts: { jobId: id, attempts: 1, removeOnComplete: { age: COMPLETED_JOB_KEEP_S }, removeOnFail: true } });
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
    for (const id of [...this.#watches.keys()]) this.withdraw(id);
    const giveUpAt = Date.now() + WITHDRAW_LIMIT_MS;
    while (this.#withdrawn.size > 0 && Date.now() < giveUpAt && (await this.#reachable())) {
      await Promise.all([...this.#withdrawn.keys()].map((id) => this.#discard(id)));
      if (this.#withdrawn.size > 0) await new Promise((resolve) => setTimeout(resolve, WORKER_POLL_MS));
    }
    this.#flushRemovals();
    await Promise.all([...this.#removing]);
    this.#closed = true;
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    await Promise.allSettled([this.#feed.close(), this.#queue.close()]);
    this.#client.disconnect();
  }

  async #reachable(): Promise<boolean> {
    try {
      await this.ready;
      return this.#client.status === 'ready';
    } catch {
      return false;
    }
  }

  async #prepare(): Promise<void> {
    const { startTimeoutMs } = this.#options;
    const giveUpAt = Date.now() + startTimeoutMs;
    try {
      await this.#connect(this.#client, startTimeoutMs);
      // Events from the stream's last entry on: nothing of this pool's can be missed, however
      // late the blocking read starts.
      const last = await this.#client.xrevrange(this.#queue.keys.events, '+', '-', 'COUNT', 1);
      this.#feed.start(last.length > 0 ? last[0]![0] : '0-0');
      await this.#awaitWorker(giveUpAt);
    } catch (error) {
      await this.#feed.close();
      this.#client.disconnect();
      throw error;
    }
  }

  /** Connects `client`, or fails with a message naming Redis and the queue. */
  async #connect(client: Redis, limitMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        new Promise<void>((resolve, reject) => {
          // BullMQ may have started connecting it already: wait for its first word either way.
          if (client.status === 'ready') resolve();
          client.once('ready', resolve);
          client.once('error', reject);
          if (client.status === 'wait') client.connect().catch(reject);
        }),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${limitMs} ms (the pool's startTimeout)`)), limitMs);
          this.#closing.signal.addEventListener('abort', () => reject(this.#closing.signal.reason), { once: true });
        }),
      ]);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`mpool could not reach Redis for ${this.where}: ${reason}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  async #awaitWorker(giveUpAt: number): Promise<void> {
    for (;;) {
      this.#closing.signal.throwIfAborted();
      if ((await this.#queue.getWorkersCount()) > 0) return;
      if (Date.now() >= giveUpAt) {
        const url = typeof this.#options.connection === 'string' ? describeConnection(this.#options.connection) : 'URL';
        throw new Error(`No mpool-worker serves ${this.where}: none appeared within ${this.#options.startTimeoutMs} ms (the pool's startTimeout). Start one on a machine with this checkout: mpool-worker --redis ${url} --queue ${this.#options.queue} --concurrency N`);
      }
      await new Promise((resolve) => setTimeout(resolve, WORKER_POLL_MS));
    }
  }

  #flushAdds(): void {
    const adds = this.#adds;
    this.#adds = [];
    // One job alone goes by add, a single script call; addBulk wraps its calls in a transaction.
    const adding = adds.length === 1 ? this.#queue.add(adds[0]!.name, adds[0]!.data, adds[0]!.opts) : this.#queue.addBulk(adds);
    adding.then(() => {
      for (const { opts } of adds) {
        const watch = this.#watches.get(opts.jobId as string);
        if (watch !== undefined) watch.added = true;
      }
    }, (error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      for (const { opts } of adds) this.#ended(opts.jobId as string, { ok: false, reason: `the job could not be added to ${this.where}: ${reason}` });
    });
  }

  #ended(id: string, end: JobEnd): void {
    const watch = this.#watches.get(id);
    if (watch !== undefined) {
      this.#watches.delete(id);
      this.#remove(id);
      watch.done(end);
    } else if (this.#withdrawn.has(id)) {
      void this.#discard(id);
    }
  }

  /**
   * Removes a finished job, with the others finished within REMOVAL_DELAY_MS: each removal is a
   * script Redis runs, and done at once it delays the next job (measured: 0.3 to 0.5 ms a round
   * trip for tasks one at a time). The timer keeps the program alive until the jobs are gone.
   */
  #remove(id: string): void {
    if (this.#removals.length === 0) this.#removalTimer = setTimeout(() => this.#flushRemovals(), REMOVAL_DELAY_MS);
    this.#removals.push(id);
  }

  #flushRemovals(): void {
    clearTimeout(this.#removalTimer);
    for (const id of this.#removals.splice(0)) {
      const removing = this.#queue.remove(id).then(() => undefined, () => undefined);
      this.#removing.add(removing);
      void removing.finally(() => this.#removing.delete(removing));
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

  /** Reads back jobs whose event is late, and tries again to remove withdrawn ones. */
  async #sweep(): Promise<void> {
    if (this.#watches.size === 0 && this.#withdrawn.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
      return;
    }
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
    const reason = `no mpool-worker has served ${this.where} for ${this.#options.startTimeoutMs} ms (the pool's startTimeout)`;
    for (const [id, watch] of [...this.#watches]) {
      this.#watches.delete(id);
      this.#withdrawn.set(id, now);
      watch.done({ ok: false, reason });
    }
  }

  async #readBack(id: string): Promise<void> {
    try {
      const job = await this.#queue.getJob(id);
      if (job === undefined) {
        // Added, then gone without its event: failed and removed (see add), or removed by hand.
        if (this.#watches.get(id)?.added === true) this.#ended(id, { ok: false, reason: 'the job is gone from Redis: it failed, or was removed' });
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
    this.#applyRef(client);
  }

  #applyRefs(): void {
    this.#applyRef(this.#client);
    if (this.#referenced > 0) this.ready.then(() => this.#referenced > 0 && this.#feed.busy(), () => undefined);
    else this.#feed.idle();
  }

  #applyRef(client: Redis): void {
    const stream = client.stream as { ref?: () => void; unref?: () => void } | undefined;
    if (this.#referenced > 0) stream?.ref?.();
    else stream?.unref?.();
  }
}
