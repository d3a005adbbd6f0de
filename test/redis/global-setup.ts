/**
 * Jest's global setup: a Redis server of the tests' own for the 'bullmq' context (server.ts).
 * MPOOL_TEST_REDIS_URL, when set, names a Redis to use instead. The tests find it in
 * MPOOL_TEST_REDIS_URL; global-teardown.ts stops it by its pid.
 */
import { REDIS_PID_KEY } from './server-record';
import { startRedis } from './server';

export default async function globalSetup(): Promise<void> {
  if (process.env.MPOOL_TEST_REDIS_URL !== undefined) return;
  const server = await startRedis();
  server.child.removeAllListeners('exit');
  // Jest's own process may not end while it holds the child: the teardown stops it by pid.
  server.child.unref();
  (globalThis as Record<string, unknown>)[REDIS_PID_KEY] = server.pid;
  process.env.MPOOL_TEST_REDIS_URL = server.url;
}
