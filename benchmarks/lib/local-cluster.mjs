/**
 * A cluster on this machine, for bullmq.mjs: a Redis server of its own and worker processes
 * (mpool-worker, or plain BullMQ workers), each stopped by `stopAll()`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const bullmqPackage = require.resolve('@mpool/bullmq/package.json');
/** The mpool-worker command, as the package's `bin` names it. */
export const MPOOL_WORKER = join(dirname(bullmqPackage), require(bullmqPackage).bin['mpool-worker']);
const PLAIN_WORKER = new URL('../tasks/bullmq-plain-worker.mjs', import.meta.url).pathname;
/** How long a process may take to say it is ready. */
const START_LIMIT_MS = 20_000;

/** Whether redis-server can be run here. */
export function hasRedisServer() {
  return spawnSync('redis-server', ['--version']).error === undefined;
}

export class LocalCluster {
  #children = [];

  /** Runs `args`, resolving once its output says `ready`. */
  async #run(command, args, ready) {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#children.push(child);
    let output = '';
    const answered = new Promise((resolve, reject) => {
      const read = (chunk) => {
        output += chunk;
        if (ready.test(output)) resolve();
      };
      child.stdout.on('data', read);
      child.stderr.on('data', read);
      child.once('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited (code ${code}):\n${output}`)));
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), START_LIMIT_MS);
    try {
      await answered;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts Redis on a free port; resolves to its URL. */
  async redis() {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address();
    server.close();
    await this.#run('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], /Ready to accept connections/);
    return `redis://127.0.0.1:${port}`;
  }

  /** An mpool-worker on `queue`, one local worker thread, task modules found under `root`. */
  mpoolWorker(url, queue, root) {
    return this.#run(process.execPath, [MPOOL_WORKER, '--redis', url, '--queue', queue, '--concurrency', '1', '--root', root], / serves /);
  }

  /** A plain BullMQ worker on `queue`, running `concurrency` jobs at once. */
  plainWorker(url, queue, concurrency) {
    return this.#run(process.execPath, [PLAIN_WORKER, url, queue, String(concurrency)], / serves /);
  }

  /** Stops every process started, the workers before Redis. */
  async stopAll() {
    for (const child of this.#children.splice(0).reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  }
}
