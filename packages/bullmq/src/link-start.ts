/**
 * How a pool's link to its queue starts (redis-link.ts): connect to Redis, learn which run of it
 * this is (liveness.ts), find where its events stream ends, and wait for a worker serving the
 * queue. Each step is done within the pool's startTimeout, and given up when the pool closes:
 * a Redis that stops answering half-way never leaves the start pending.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { describeConnection } from './connection.js';
import { within } from './deadline.js';
import type { EventFeed } from './event-feed.js';
import type { Liveness } from './liveness.js';
import type { LinkOptions } from './redis-link.js';

/** How often the start looks for a worker serving the queue while it waits for the first. */
export const WORKER_POLL_MS = 50;
/**
 * A command of the start still unanswered at startTimeout is given this long more: on a busy
 * machine, an answer that comes late is not a Redis that went away (nor, when it says that no
 * worker serves the queue, a reason to say that Redis stopped answering instead).
 */
const ANSWER_GRACE_MS = 1000;

/** What the start works on: the link's own parts. */
export interface LinkParts {
  readonly options: LinkOptions;
  /** The queue and connection, as messages name them. */
  readonly where: string;
  readonly client: Redis;
  readonly queue: Queue;
  readonly feed: EventFeed;
  readonly liveness: Liveness;
  /** Aborted when the pool closes. */
  readonly closing: AbortSignal;
}

/** Connects the client, or fails with a message naming Redis and the queue. */
async function connect(parts: LinkParts): Promise<void> {
  const { client, options, closing } = parts;
  const reaching = new Promise<void>((resolve, reject) => {
    // BullMQ may have started connecting it already: wait for its first word either way.
    if (client.status === 'ready') resolve();
    client.once('ready', resolve);
    client.once('error', reject);
    if (client.status === 'wait') client.connect().catch(reject);
  });
  try {
    await within(reaching, options.startTimeoutMs, () => new Error(`no answer within ${options.startTimeoutMs} ms (the pool's startTimeout)`), closing);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`mpool could not reach Redis for ${parts.where}: ${reason}`, { cause: error });
  }
}

/** Resolves once Redis answers and a worker serves the queue, within startTimeout; rejects with why not. */
export async function startLink(parts: LinkParts): Promise<void> {
  const { client, queue, feed, liveness, options, closing, where } = parts;
  const giveUpAt = Date.now() + options.startTimeoutMs;
  const duringStart = <T>(work: Promise<T>): Promise<T> => {
    const late = (): Error => new Error(`mpool could not reach Redis for ${where}: it stopped answering, and did not answer again within ${options.startTimeoutMs} ms (the pool's startTimeout)`);
    return within(work, giveUpAt + ANSWER_GRACE_MS - Date.now(), late, closing);
  };
  await connect(parts);
  await duringStart(liveness.identify());
  // Events from the stream's last entry on: nothing of this pool's can be missed, however late
  // the blocking read starts.
  const last = await duringStart(client.xrevrange(queue.keys.events, '+', '-', 'COUNT', 1));
  feed.start(last.length > 0 ? last[0]![0] : '0-0');
  for (;;) {
    closing.throwIfAborted();
    if ((await duringStart(queue.getWorkersCount())) > 0) return;
    if (Date.now() >= giveUpAt) {
      const url = typeof options.connection === 'string' ? describeConnection(options.connection) : 'URL';
      throw new Error(`No mpool-worker serves ${where}: none appeared within ${options.startTimeoutMs} ms (the pool's startTimeout). Start one on a machine with this checkout: mpool-worker --redis ${url} --queue ${options.queue} --concurrency N`);
    }
    await new Promise((resolve) => setTimeout(resolve, WORKER_POLL_MS));
  }
}
