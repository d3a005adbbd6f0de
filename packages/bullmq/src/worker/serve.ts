/**
 * What `mpool-worker` runs: a BullMQ Worker on the queue, whose jobs are batches of a pool's tasks
 * (see job-codec.ts), run in a local mpool pool (local-pools.ts), so that a task that crashes its
 * worker fails with the same WorkerCrashedError as on one machine. Only the death of this whole
 * process goes through BullMQ's stall detection: its lock expires, and another worker runs the job.
 *
 *   BullMQ job ─▶ processor ─▶ local pool (one task each) ─▶ outcomes ─▶ return value ─▶ the pool
 *   cancel channel ─▶ Worker.cancelJob ─▶ the job's tasks withdrawn (a lone task's worker stopped)
 *
 * When Redis goes away the worker says so once (outage-log.ts) and keeps trying to reconnect;
 * once Redis is back it takes jobs again. Stopped while Redis is away, it finishes the jobs in
 * hand and exits without waiting for Redis to store their results: BullMQ gives those jobs to
 * another worker when their locks expire (at least once).
 */
import { Worker, type Job } from 'bullmq';
import { ResultStatus, type FnSpec, type RelayedTask, type RunMode, type WireOutcome, type WireRelay } from '@mpool/core';
import { encodeThrown } from '@mpool/core/worker';
import { createClient, describeConnection, type Connection } from '../connection.js';
import { settlesWithin } from '../deadline.js';
import { isJobData, pack, unpack } from '../job-codec.js';
import { specFromCluster } from '../module-paths.js';
import { cancelChannel } from '../redis-link.js';
import { LocalPools, type LocalContext } from './local-pools.js';
import { OutageLog } from './outage-log.js';

/** How long a withdrawal heard before its job started here is remembered. */
const CANCEL_MEMORY_MS = 60_000;
/** How often a stopping worker, its jobs done, looks whether Redis has gone away: their results cannot be stored then, and it stops waiting. */
const STOP_POLL_MS = 100;

export interface ServeOptions {
  readonly connection: Connection;
  readonly queue: string;
  /** Jobs run at once, and workers of the local pool. */
  readonly concurrency: number;
  /** Where task modules are found: the pools' `root` on this machine. */
  readonly root: string;
  readonly context: LocalContext;
  /** Whether inline functions and data: modules may run here. */
  readonly inline: boolean;
  /** BullMQ's lock on a running job (ms); it is renewed while the job runs. */
  readonly lockDuration?: number;
  /** How often BullMQ looks for jobs whose lock expired (ms). */
  readonly stalledInterval?: number;
  /** How often a job may stall before it fails. */
  readonly maxStalledCount?: number;
  /**
   * Where the worker tells of Redis going away and coming back (once each way), and of BullMQ's
   * other errors. Default: `process.emitWarning` with the code `MPOOL_WORKER_REDIS`.
   */
  readonly log?: (message: string) => void;
}

/** A running mpool-worker. */
export interface Server {
  /** Resolves once the worker takes jobs. */
  readonly ready: Promise<void>;
  /** What it serves, for people. */
  readonly description: string;
  /**
   * Takes no more jobs, finishes those in hand, and closes the local pools and connections; while
   * Redis is away, without waiting for it to store the results of the jobs in hand.
   */
  close(): Promise<void>;
}

/** The outcome of a task that could not run here. */
function refused(error: unknown): RelayedTask {
  return { outcome: Promise.resolve([ResultStatus.Threw, encodeThrown(error)] as WireOutcome), cancel: () => undefined };
}

/** A job's return value; an outcome that cannot be copied becomes one that says so, as in a worker. */
function packOutcomes(busyMs: number, outcomes: readonly WireOutcome[]): string {
  const flat: unknown[] = [busyMs];
  for (const [status, value] of outcomes) flat.push(status, value);
  try {
    return pack(flat);
  } catch {
    const safe: unknown[] = [busyMs];
    for (const [status, value] of outcomes) {
      try {
        pack(value);
        safe.push(status, value);
      } catch (error) {
        safe.push(ResultStatus.Uncloneable, error instanceof Error ? error.message : String(error));
      }
    }
    return pack(safe);
  }
}

/** Starts serving `options.queue`. */
export function serve(options: ServeOptions): Server {
  const pools = new LocalPools({ context: options.context, size: options.concurrency, root: options.root, inline: options.inline });
  /** Withdrawals heard, by job id, with when: one may come before its job starts here. */
  const withdrawn = new Map<string, number>();
  const running = new Map<string, () => void>();
  /** The jobs this worker runs now, until their outcomes are packed. */
  const inHand = new Set<Promise<unknown>>();

  const processJob = async (job: Job, _token?: string, signal?: AbortSignal): Promise<string> => {
    const data: unknown = job.data;
    if (!isJobData(data)) throw new Error(`Job ${String(job.id)} is not an mpool job of this version`);
    const tasks = unpack(data.tasks) as unknown[];
    const alone = tasks.length === 3; // a lone task may be stopped (see WireRelay.run)
    let relay: WireRelay;
    try {
      relay = pools.acquire(data.setupKey, data.setup);
    } catch (error) {
      const outcomes = await Promise.all(Array.from({ length: tasks.length / 3 }, () => refused(error).outcome));
      return packOutcomes(0, outcomes);
    }
    // The local workers' busy time while the job ran: what the pool estimates its tasks' length
    // from (the time the job took would count the local round trips too). Jobs that run at the
    // same time share it, so a job's figure may count some of the others' work.
    const busyBefore = relay.busyMs;
    try {
      const relayed: RelayedTask[] = [];
      for (let i = 0; i < tasks.length; i += 3) {
        try {
          const spec = specFromCluster(tasks[i] as FnSpec, options.root, options.inline);
          relayed.push(relay.run(spec, tasks[i + 1] as RunMode, tasks[i + 2], alone));
        } catch (error) {
          relayed.push(refused(error));
        }
      }
      // A withdrawn job fails at once (BullMQ then removes it); its tasks are withdrawn too: a
      // lone one has its local worker stopped, others finish and their results are dropped.
      let cancel!: () => void;
      const cancelled = new Promise<never>((_, reject) => {
        cancel = (): void => {
          for (const task of relayed) task.cancel();
          reject(new Error('withdrawn by its pool'));
        };
      });
      cancelled.catch(() => undefined); // a withdrawal after the job's end is no one's to hear
      const id = String(job.id);
      running.set(id, cancel);
      signal?.addEventListener('abort', cancel, { once: true });
      if (withdrawn.has(id)) cancel();
      try {
        const outcomes = await Promise.race([Promise.all(relayed.map((task) => task.outcome)), cancelled]);
        return packOutcomes(relay.busyMs - busyBefore, outcomes);
      } finally {
        running.delete(id);
        signal?.removeEventListener('abort', cancel);
      }
    } finally {
      pools.release(data.setupKey);
    }
  };

  const client = createClient(options.connection);
  const subscriber = createClient(options.connection);
  let worker: Worker | undefined;
  const description = `the queue '${options.queue}' on ${describeConnection(options.connection)}`;
  const log = options.log ?? ((message: string) => process.emitWarning(message, { code: 'MPOOL_WORKER_REDIS' }));
  const outage = new OutageLog(describeConnection(options.connection), `the queue '${options.queue}'`, log);
  outage.watch(client);
  outage.watch(subscriber);
  const runJob = (job: Job, token?: string, signal?: AbortSignal): Promise<string> => {
    const processing = processJob(job, token, signal);
    inHand.add(processing);
    void processing.finally(() => inHand.delete(processing)).catch(() => undefined);
    return processing;
  };

  /** Resolves once both connections are made, or one failed: a close waits for no more. */
  const connected = Promise.all([client.connect(), subscriber.connect()]);
  const start = async (): Promise<void> => {
    await connected;
    worker = new Worker(options.queue, runJob, {
      connection: client,
      concurrency: options.concurrency,
      ...(options.lockDuration === undefined ? {} : { lockDuration: options.lockDuration }),
      ...(options.stalledInterval === undefined ? {} : { stalledInterval: options.stalledInterval }),
      ...(options.maxStalledCount === undefined ? {} : { maxStalledCount: options.maxStalledCount }),
    });
    worker.on('error', (error) => outage.error(error));
    const channel = cancelChannel(worker.qualifiedName);
    subscriber.on('message', (from: string, id: string) => {
      if (from !== channel) return;
      const now = Date.now();
      withdrawn.set(id, now);
      for (const [old, at] of withdrawn) {
        if (now - at < CANCEL_MEMORY_MS) break;
        withdrawn.delete(old);
      }
      running.get(id)?.();
      worker?.cancelJob(id);
    });
    await subscriber.subscribe(channel);
    await worker.waitUntilReady();
    outage.serving();
  };
  const ready = start();

  /**
   * BullMQ's close takes no more jobs, waits for those in hand, and stores their results, which
   * waits for Redis: while Redis is away, the worker stops waiting once its jobs are done.
   */
  const closeWorker = async (): Promise<void> => {
    if (worker === undefined) return;
    const closed = worker.close();
    const jobs = inHand.size;
    await Promise.allSettled([...inHand]);
    while (!(await settlesWithin(closed, STOP_POLL_MS))) {
      if (outage.down || client.status !== 'ready') {
        if (jobs > 0) log(`stopping while Redis is away: the results of the last ${jobs} job(s) could not be stored; BullMQ gives them to another worker once Redis is back and their locks expire`);
        await settlesWithin(worker.disconnect(), STOP_POLL_MS);
        return;
      }
    }
  };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await connected.catch(() => undefined);
      await closeWorker();
      await pools.close();
      subscriber.disconnect();
      client.disconnect();
    })();
    return closing;
  };
  return { ready, description, close };
}
