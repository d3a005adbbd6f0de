/**
 * The pools under test, each behind the same three calls: `start()` once, `run(inputs)` per
 * measurement (resolves to the results in input order), `stop()` at the end. Every pool has
 * WORKERS thread workers and its own worker module, as each library requires.
 */
import { Pool, task } from 'mpool';
import { Piscina } from 'piscina';
import { FixedThreadPool } from 'poolifier';

const tasksDir = new URL('../tasks/', import.meta.url);

/** mpool: one `applyAsync` per input, all submitted before any is awaited. */
function mpoolApplyAsync(workers) {
  const inc = task(new URL('mpool-tasks.mjs', tasksDir), 'inc');
  let pool;
  return {
    name: 'mpool applyAsync',
    start() {
      pool = new Pool(workers);
    },
    run(inputs) {
      const pending = new Array(inputs.length);
      for (let i = 0; i < inputs.length; i++) pending[i] = pool.applyAsync(inc, [inputs[i]]);
      // AsyncResults are thenables, so Promise.all awaits them as they are.
      return Promise.all(pending);
    },
    stop: () => pool.terminate(),
  };
}

/** mpool: one `map` call with its default chunksize (ceil(n / (workers * 4)), as Python's). */
function mpoolMap(workers) {
  const inc = task(new URL('mpool-tasks.mjs', tasksDir), 'inc');
  let pool;
  return {
    name: 'mpool map',
    start() {
      pool = new Pool(workers);
    },
    run: (inputs) => pool.map(inc, inputs),
    stop: () => pool.terminate(),
  };
}

/**
 * piscina: one `run` per input, all submitted before any is awaited. `concurrentTasksPerWorker`
 * is piscina's own default (1: a worker gets its next task after answering the last) unless
 * `concurrency` is given; more lets tasks queue inside the worker.
 */
function piscina(workers, concurrency) {
  let pool;
  return {
    name: 'piscina run',
    start() {
      pool = new Piscina({
        filename: new URL('piscina-worker.mjs', tasksDir).href,
        minThreads: workers,
        maxThreads: workers,
        ...(concurrency === undefined ? {} : { concurrentTasksPerWorker: concurrency }),
      });
    },
    run(inputs) {
      const pending = new Array(inputs.length);
      for (let i = 0; i < inputs.length; i++) pending[i] = pool.run(inputs[i]);
      return Promise.all(pending);
    },
    stop: () => pool.destroy(),
  };
}

/**
 * poolifier: one `execute` per input, all submitted before any is awaited. Its per-worker task
 * queue is left off (the default): then `execute` posts every task to a worker at once, so all of
 * them are in flight, which is the most it can keep in flight. With the queue on, a worker runs at
 * most `tasksQueueOptions.concurrency` tasks at a time and the rest wait in the parent.
 */
function poolifier(workers) {
  let pool;
  return {
    name: 'poolifier execute',
    start() {
      pool = new FixedThreadPool(workers, new URL('poolifier-worker.mjs', tasksDir).pathname, {
        errorHandler: (error) => console.error('poolifier worker error:', error),
      });
    },
    run(inputs) {
      const pending = new Array(inputs.length);
      for (let i = 0; i < inputs.length; i++) pending[i] = pool.execute(inputs[i]);
      return Promise.all(pending);
    },
    stop: () => pool.destroy(),
  };
}

/**
 * Every system, in the order the table lists them.
 * @param workers threads per pool.
 * @param piscinaConcurrency piscina's `concurrentTasksPerWorker`; undefined keeps its default.
 */
export function makeSystems(workers, piscinaConcurrency) {
  return [mpoolApplyAsync(workers), mpoolMap(workers), piscina(workers, piscinaConcurrency), poolifier(workers)];
}
