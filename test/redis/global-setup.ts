/**
 * Jest's global setup: a Redis server of the tests' own for the 'bullmq' context, on a free port
 * of 127.0.0.1, with nothing saved to disk. MPOOL_TEST_REDIS_URL, when set, names a Redis to use
 * instead. The tests find it in MPOOL_TEST_REDIS_URL; global-teardown.ts stops it by its pid.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { REDIS_PID_KEY } from './server-record';

/** How long the new server may take to answer PING (it takes 15-60 ms here). */
const START_LIMIT_MS = 10_000;
const PING_RETRY_MS = 20;

const INSTALL_HINT = 'The tests of the bullmq context need redis-server (Redis 7) on the PATH. Install it with `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server` (Debian, Ubuntu), `brew install redis` (macOS), or point MPOOL_TEST_REDIS_URL at a Redis the tests may use.';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Whether a Redis on `port` answers PING. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let answer = '';
    socket.once('error', () => resolve(false));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) {
        socket.destroy();
        resolve(answer.startsWith('+PONG'));
      }
    });
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}

export default async function globalSetup(): Promise<void> {
  if (process.env.MPOOL_TEST_REDIS_URL !== undefined) return;
  if (spawnSync('redis-server', ['--version']).error !== undefined) throw new Error(INSTALL_HINT);
  const port = await freePort();
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise<never>((_, reject) => {
    server.once('exit', (code) => reject(new Error(`redis-server exited at once (code ${String(code)}) on port ${port}`)));
    server.once('error', (error) => reject(new Error(`redis-server could not start: ${error.message}. ${INSTALL_HINT}`)));
  });
  exited.catch(() => undefined);
  const giveUpAt = Date.now() + START_LIMIT_MS;
  while (!(await Promise.race([pings(port), exited]))) {
    if (Date.now() > giveUpAt) {
      server.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not answer within ${START_LIMIT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, PING_RETRY_MS));
  }
  server.removeAllListeners('exit');
  // Jest's own process may not end while it holds the child: the teardown stops it by pid.
  server.unref();
  (globalThis as Record<string, unknown>)[REDIS_PID_KEY] = server.pid;
  process.env.MPOOL_TEST_REDIS_URL = `redis://127.0.0.1:${port}`;
}
