/**
 * Bounded waits. ioredis holds a command while Redis is away and answers it once Redis is back
 * (BullMQ needs `maxRetriesPerRequest: null`), so a command sent to a Redis that never returns
 * never settles: whatever must end (a start, a pool's close) waits for Redis within a deadline.
 */
import type { Redis } from 'ioredis';

/** Resolves with whether `work` settled within `ms`; its outcome is not passed on. */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = work.then(() => true, () => true);
  try {
    return await Promise.race([settled, new Promise<boolean>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms), false)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** `work`'s outcome; or a rejection with `late()` once `ms` have passed, or with `signal`'s reason once it aborts. */
export async function within<T>(work: Promise<T>, ms: number, late: () => Error, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(late()), Math.max(0, ms));
        if (signal === undefined) return;
        if (signal.aborted) reject(signal.reason);
        onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Whether `client`'s Redis answered `work` before `giveUpAt`, its connection still up: a wait
 * that ends as soon as the connection drops, for what need not outlive Redis.
 */
export async function answeredBy(client: Redis, work: Promise<unknown>, giveUpAt: number): Promise<boolean> {
  let dropped!: () => void;
  const drop = new Promise<void>((resolve) => client.once('close', (dropped = resolve)));
  try {
    return (await settlesWithin(Promise.race([work, drop]), giveUpAt - Date.now())) && client.status === 'ready';
  } finally {
    client.off('close', dropped);
  }
}
