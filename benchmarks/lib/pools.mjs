/**
 * Every Node.js pool under test, behind one small interface, so that each benchmark is written
 * once for all of them. An adapter describes a system and opens pools of it:
 *
 *   { name, library, runsOn: 'thread' | 'process', transfer: 'both' | 'in' | null, open(workers) }
 *
 * `open(workers)` returns a handle (or a promise of one) with the calls the benchmarks use:
 *
 *   inc(x)                  → Promise of x + 1, one task
 *   incMap(xs, chunksize)   → Promise of every x + 1, through the library's map (absent: it has none)
 *   pi(first, last)         → Promise of 4 × the Leibniz terms first..last (tasks/pi-task.mjs)
 *   echo(array)             → Promise of the Float64Array back, copied each way
 *   echoMove(array)         → the same with the buffer transferred (absent: the library cannot)
 *   close()                 → Promise, once the workers are gone
 *
 * Every pool has its own worker module under tasks/, as its library requires. The process pools
 * that default to JSON over the IPC channel are given Node's 'advanced' serialization (structured
 * clone), without which a Float64Array does not survive the trip.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Pool, task } from '@mpool/pool';
import { Piscina } from 'piscina';
import { FixedClusterPool, FixedThreadPool } from 'poolifier';
import { Tinypool } from 'tinypool';
import workerpool from 'workerpool';

const tasksDir = new URL('../tasks/', import.meta.url);
const taskFile = (name) => new URL(name, tasksDir);

/** mpool in `context` ('thread', 'spawn' or 'forkserver'). It has no transfer lists yet. */
function mpool(context) {
  const module = taskFile('mpool-tasks.mjs');
  const inc = task(module, 'inc');
  const partialPi = task(module, 'partialPi');
  const echo = task(module, 'echo');
  return {
    name: `mpool ${context}`,
    library: 'mpool',
    runsOn: context === 'thread' ? 'thread' : 'process',
    transfer: null,
    open(workers) {
      const pool = new Pool({ processes: workers, context });
      return {
        // An AsyncResult is a thenable: Promise.all awaits it as it is.
        inc: (x) => pool.applyAsync(inc, [x]),
        incMap: (xs, chunksize) => pool.map(inc, xs, chunksize),
        pi: (first, last) => pool.applyAsync(partialPi, [first, last]),
        echo: (array) => pool.applyAsync(echo, [array]),
        close: () => pool.terminate(),
      };
    },
  };
}

/** piscina (threads). `concurrentTasksPerWorker` stays at its default, 1. */
function piscina() {
  return {
    name: 'piscina',
    library: 'piscina',
    runsOn: 'thread',
    transfer: 'both',
    open(workers) {
      const pool = new Piscina({ filename: taskFile('piscina-worker.cjs').href, minThreads: workers, maxThreads: workers });
      return {
        inc: (x) => pool.run(x),
        pi: (first, last) => pool.run([first, last], { name: 'pi' }),
        echo: (array) => pool.run(array, { name: 'echo' }),
        echoMove: (array) => pool.run(array, { name: 'echoMove', transferList: [array.buffer] }),
        close: () => pool.destroy(),
      };
    },
  };
}

/**
 * tinypool on worker threads, or on child processes (`runtime: 'child_process'`). Its child
 * processes get an environment of one variable, their worker id, unless `env` is given (as with
 * `withEnv`): none of the parent's, which a Node process reads at start-up (`NODE_OPTIONS`, and
 * `NODE_EXTRA_CA_CERTS`, which Node 20 loads before it runs any code).
 */
function tinypool(runtime, { withEnv = false } = {}) {
  const threads = runtime === 'worker_threads';
  return {
    name: threads ? 'tinypool' : withEnv ? 'tinypool child_process, given env' : 'tinypool child_process',
    library: 'tinypool',
    runsOn: threads ? 'thread' : 'process',
    transfer: threads ? 'both' : null,
    open(workers) {
      const pool = new Tinypool({
        filename: taskFile('tinypool-worker.mjs').href,
        runtime,
        minThreads: workers,
        maxThreads: workers,
        ...(threads ? {} : { serialization: 'advanced' }),
        ...(withEnv ? { env: process.env } : {}),
      });
      return {
        inc: (x) => pool.run(x),
        pi: (first, last) => pool.run([first, last], { name: 'pi' }),
        echo: (array) => pool.run(array, { name: 'echo' }),
        ...(threads ? { echoMove: (array) => pool.run(array, { name: 'echoMove', transferList: [array.buffer] }) } : {}),
        close: () => pool.destroy(),
      };
    },
  };
}

/** workerpool on worker threads or on child processes (`workerType: 'process'`). It has no map. */
function workerpoolSystem(workerType) {
  const threads = workerType === 'thread';
  return {
    name: threads ? 'workerpool' : 'workerpool process',
    library: 'workerpool',
    runsOn: threads ? 'thread' : 'process',
    transfer: threads ? 'both' : null,
    open(workers) {
      const pool = workerpool.pool(taskFile('workerpool-worker.mjs').pathname, {
        minWorkers: workers,
        maxWorkers: workers,
        workerType,
        ...(threads ? {} : { forkOpts: { serialization: 'advanced' } }),
      });
      return {
        inc: (x) => pool.exec('inc', [x]),
        pi: (first, last) => pool.exec('partialPi', [first, last]),
        echo: (array) => pool.exec('echo', [array]),
        ...(threads ? { echoMove: (array) => pool.exec('echoMove', [array], { transfer: [array.buffer] }) } : {}),
        close: () => pool.terminate(),
      };
    },
  };
}

/**
 * poolifier's FixedThreadPool, or its FixedClusterPool (workers forked by `node:cluster` from a
 * ClusterWorker module). Its per-worker task queue is left off, its default: then every task is
 * posted to a worker at once. `mapExecute` is its map (one task per item: it has no chunksize).
 * A thread pool transfers what it sends but its workers cannot transfer a result: 'in' only.
 */
function poolifier(kind) {
  const threads = kind === 'thread';
  return {
    name: threads ? 'poolifier FixedThreadPool' : 'poolifier FixedClusterPool',
    library: 'poolifier',
    runsOn: threads ? 'thread' : 'process',
    transfer: threads ? 'in' : null,
    open(workers) {
      const onError = (error) => console.error(`poolifier ${kind} worker error:`, error);
      const pool = threads
        ? new FixedThreadPool(workers, taskFile('poolifier-worker.mjs').pathname, { errorHandler: onError })
        : new FixedClusterPool(workers, taskFile('poolifier-cluster-worker.cjs').pathname, {
            errorHandler: onError,
            settings: { serialization: 'advanced' },
          });
      return {
        inc: (x) => pool.execute(x, 'inc'),
        incMap: (xs) => pool.mapExecute(xs, 'inc'),
        pi: (first, last) => pool.execute([first, last], 'pi'),
        echo: (array) => pool.execute(array, 'echo'),
        ...(threads ? { echoMove: (array) => pool.execute(array, 'echo', undefined, [array.buffer]) } : {}),
        close: () => pool.destroy(),
      };
    },
  };
}

/**
 * The floor under any Node process pool's start-up: `workers` processes forked from an empty
 * script that answers a message with its number plus one (`tasks/startup-floor-child.cjs`), no
 * pool, no protocol; the first of them answers. Start-up only.
 */
function forkFloor() {
  return {
    name: 'child_process.fork floor',
    library: 'node',
    runsOn: 'process',
    transfer: null,
    open(workers) {
      const children = Array.from({ length: workers }, () => fork(fileURLToPath(taskFile('startup-floor-child.cjs')), [], { serialization: 'advanced' }));
      return {
        inc: (x) =>
          new Promise((resolve, reject) => {
            children[0].once('message', resolve);
            children[0].once('error', reject);
            children[0].send(x);
          }),
        close: () =>
          Promise.all(
            children.map((child) => {
              if (child.exitCode !== null || child.signalCode !== null) return undefined;
              return new Promise((resolve) => {
                child.once('exit', resolve);
                child.kill();
              });
            }),
          ),
      };
    },
  };
}

/**
 * Systems of the start-up benchmark alone: the floor under every Node process pool, and tinypool's
 * child processes given the environment every other pool's children get.
 */
export function startupSystems() {
  return [tinypool('child_process', { withEnv: true }), forkFloor()];
}

/**
 * Every Node.js system, in the order the tables list them: threads first, mpool leading each
 * group, then processes.
 */
export function nodeSystems() {
  return [
    mpool('thread'),
    piscina(),
    tinypool('worker_threads'),
    workerpoolSystem('thread'),
    poolifier('thread'),
    mpool('spawn'),
    mpool('forkserver'),
    tinypool('child_process'),
    workerpoolSystem('process'),
    poolifier('cluster'),
  ];
}
