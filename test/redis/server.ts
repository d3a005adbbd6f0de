/**
 * A redis-server of the tests' own: on a port of 127.0.0.1 (a free one unless told), with nothing
 * saved to disk, handed over once it answers PING, and stopped by its pid. The global setup starts
 * the one the bullmq tests share; a test that kills Redis starts its own.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';

/** How long a new server may take to answer PING (it takes 15-60 ms here). */
const START_LIMIT_MS = 10_000;
const PING_RETRY_MS = 20;

export const INSTALL_HINT = 'The tests of the bullmq context need redis-server (Redis 7) on the PATH. Install it with `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server` (Debian, Ubuntu), `brew install redis` (macOS), or point MPOOL_TEST_REDIS_URL at a Redis the tests may use.';

export function freePort(): Promise<number> {
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

/** A running redis-server. */
export interface RedisServer {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  /** Resolves once the server has exited. */
  readonly exited: Promise<void>;
  /** Sends `signal` (SIGKILL unless told) and resolves once the server has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts a redis-server on `port` (a free one unless given); resolves once it answers PING. */
export async function startRedis(port?: number): Promise<RedisServer> {
  if (spawnSync('redis-server', ['--version']).error !== undefined) throw new Error(INSTALL_HINT);
  const chosen = port ?? (await freePort());
  const child = spawn('redis-server', ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  let hasExited = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => (hasExited = true));
  const failed = new Promise<never>((_, reject) => {
    void exited.then(() => reject(new Error(`redis-server exited at once (code ${String(child.exitCode)}) on port ${chosen}`)));
    child.once('error', (error) => reject(new Error(`redis-server could not start: ${error.message}. ${INSTALL_HINT}`)));
  });
  failed.catch(() => undefined);
  const giveUpAt = Date.now() + START_LIMIT_MS;
  while (!(await Promise.race([pings(chosen), failed]))) {
    if (Date.now() > giveUpAt) {
      child.kill('SIGKILL');
      throw new Error(`redis-server on port ${chosen} did not answer within ${START_LIMIT_MS} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, PING_RETRY_MS));
  }
  return {
    child,
    pid: child.pid as number,
    port: chosen,
    url: `redis://127.0.0.1:${chosen}`,
    exited,
    stop: async (signal = 'SIGKILL') => {
      if (!hasExited) child.kill(signal);
      await exited;
    },
  };
}
