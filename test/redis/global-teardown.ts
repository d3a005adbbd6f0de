/** Jest's global teardown: stops the Redis server that global-setup.ts started, by its pid. */
import { REDIS_PID_KEY } from './server-record';

/** How long the server may take to exit after SIGTERM before it is killed. */
const STOP_LIMIT_MS = 5_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export default async function globalTeardown(): Promise<void> {
  const pid = (globalThis as Record<string, unknown>)[REDIS_PID_KEY];
  if (typeof pid !== 'number') return;
  process.kill(pid, 'SIGTERM');
  const giveUpAt = Date.now() + STOP_LIMIT_MS;
  while (alive(pid)) {
    if (Date.now() > giveUpAt) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
