/**
 * What `mpool-worker` runs: a BullMQ Worker on the queue, whose jobs are batches of a pool's tasks
 * (see job-codec.ts), run in a local mpool pool (local-pools.ts), so that a task that crashes its
 * worker fails with the same WorkerCrashedError as on one machine. Only the death of this whole
 * process goes through BullMQ's stall detection: its lock expires, and another worker runs the job.
 *
 *   BullMQ job ─▶ processor ─▶ local pool (one task each) ─▶ outcomes ─▶ return value ─▶ the pool
 *   cancel channel ─▶ Worker.cancelJob ─▶ the job's tasks withdrawn (a lone task's worker stopped)
 */
import { Worker, type Job } from 'bullmq';
import { ResultStatus, type FnSpec, type RelayedTask, type RunMode, type WireOutcome, type WireRelay } from '@mpool/core';
import { encodeThrown } from '@mpool/core/worker';
import { createClient, describeConnection, type Connection } from '../connection.js';
import { isJobData, pack, unpack } from '../job-codec.js';
import { specFromCluster } from '../module-paths.js';
import { cancelChannel } from '../redis-link.js';
import { LocalPools, type LocalContext } from './local-pools.js';

/** How long a withdrawal heard before its job started here is remembered. */
const CANCEL_MEMORY_MS = 60_000;

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
}

/** A running mpool-worker. */
export interface Server {
  /** Resolves once the worker takes jobs. */
  readonly ready: Promise<void>;
  /** What it serves, for people. */
  readonly description: string;
  /** Takes no more jobs, finishes those in hand, and closes the local pools and connections. */
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

  const start = async (): Promise<void> => {
    await Promise.all([client.connect(), subscriber.connect()]);
    worker = new Worker(options.queue, processJob, {
      connection: client,
      concurrency: options.concurrency,
      ...(options.lockDuration === undefined ? {} : { lockDuration: options.lockDuration }),
      ...(options.stalledInterval === undefined ? {} : { stalledInterval: options.stalledInterval }),
      ...(options.maxStalledCount === undefined ? {} : { maxStalledCount: options.maxStalledCount }),
    });
    worker.on('error', (error) => {
      process.emitWarning(`mpool-worker: ${error.message}`, { code: 'MPOOL_WORKER_REDIS' });
    });
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
  };
  const ready = start();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await ready.catch(() => undefined);
      await worker?.close();
      await pools.close();
      subscriber.disconnect();
      client.disconnect();
    })();
    return closing;
  };
  return { ready, description, close };
}
