/**
 * What a pool tells of itself and how it is steered: `stats()` against known workloads, events in
 * order, a map's progress, `maxQueue` refusing and draining, and what every worker starts with
 * (`env`, `execArgv`, `workerData`). Several parts, for the 'bullmq' context takes only some.
 */
import { QueueFullError, WorkerCrashedError, task, type ContextName, type PoolStats } from '@mpool/pool';
import { report, runProgram } from '../robustness/support';
import { exitWith, fixture, sqr, throwTypeError } from './fixtures';
import { range, rejectionOf, usePools, WORKERS } from './helpers';

const observe = fixture('observe.mjs');
const spin = task<(ms: number) => number>(observe, 'spin');
const keepWhatInitSees = task<(name: string) => void>(observe, 'keepWhatInitSees');
interface StartedWith {
  workerData: unknown;
  atInit: unknown;
  variable: string | null;
  hasPath: boolean;
  nodeOptions: string | null;
  preloaded: string | null;
}
const startedWith = task<(name: string) => StartedWith>(observe, 'startedWith');

/** How long each task of the timed workloads keeps its worker busy: long enough to stand out from the pool's own costs. */
const SPIN_MS = 30;
/** The histograms keep three significant digits: a time may read this much under what was recorded. */
const HISTOGRAM_PRECISION = 0.99;
/** A bound on the listener-throws program (a Node start and a pool's), past which it hangs. */
const PROGRAM_LIMIT_MS = 20_000;

function expectOrdered(times: PoolStats['runTime']): void {
  expect(times.p50).toBeLessThanOrEqual(times.p90);
  expect(times.p90).toBeLessThanOrEqual(times.p99);
  expect(times.p99).toBeLessThanOrEqual(times.max);
}

/** `stats()` against known workloads. */
export function statsTests(context: ContextName): void {
  describe('stats()', () => {
    const newPool = usePools(context);

    test('N tasks and chunks: completed N, failed the one that threw, nothing left queued or running', async () => {
      const pool = newPool();
      await pool.map(sqr, range(20), 1);
      await Promise.all(range(5).map((i) => pool.apply(sqr, [i])));
      await rejectionOf(pool.apply(throwTypeError, ['no']));
      const { tasks, workers } = pool.stats();
      expect(tasks).toEqual({ queued: 0, running: 0, completed: 25, failed: 1, cancelled: 0 });
      expect(workers.total).toBe(WORKERS);
      expect(workers.starting + workers.busy + workers.idle + workers.stopping).toBe(workers.total);
    });

    test('tasks held back by a busy worker: each runs as long as it spins, and the last waits for those before it', async () => {
      const pool = newPool(1);
      expect(await Promise.all(range(3).map(() => pool.apply(spin, [SPIN_MS])))).toEqual([SPIN_MS, SPIN_MS, SPIN_MS]);
      const { runTime, waitTime, utilization } = pool.stats();
      expect(runTime.p50).toBeGreaterThanOrEqual(SPIN_MS * HISTOGRAM_PRECISION);
      // The third was sent once the two before it had run.
      expect(waitTime.max).toBeGreaterThanOrEqual(2 * SPIN_MS * HISTOGRAM_PRECISION);
      expect(waitTime.p50).toBeLessThanOrEqual(waitTime.max);
      expectOrdered(runTime);
      expectOrdered(waitTime);
      expect(utilization).toBeGreaterThan(0);
      expect(utilization).toBeLessThanOrEqual(1);
    });
  });
}

/** The events every context tells, in order; listeners that throw. */
export function eventTests(context: ContextName): void {
  describe('events', () => {
    const newPool = usePools(context);

    test('a worker starts, the queue drains as the task is sent, the task fails: in that order, with the error the call gets', async () => {
      const pool = newPool(1);
      const seen: unknown[] = [];
      pool.on('workerStart', (worker) => seen.push(['workerStart', typeof worker.id]));
      pool.on('drain', () => seen.push(['drain']));
      pool.on('taskFailed', (error, failed) => seen.push(['taskFailed', error, failed]));
      const error = await rejectionOf(pool.apply(throwTypeError, ['no']));
      await pool.drained();
      // (Listeners are called on a microtask after their event: one round trip more is long after.)
      expect(await pool.apply(sqr, [3])).toBe(9);
      expect(seen.slice(0, 3)).toEqual([['workerStart', 'number'], ['drain'], ['taskFailed', error, { task: expect.stringMatching(/^throwTypeError \(.*errors\.mjs\)$/), items: 1 }]]);
      expect(error).toBeInstanceOf(TypeError);
    });

    test('listeners and onProgress that throw are reported as uncaught exceptions; the pool and the other listeners go on', async () => {
      const run = await runProgram('listener-throws.cjs', [context], { limitMs: PROGRAM_LIMIT_MS });
      expect(report(run)).toEqual({
        caught: ['onProgress threw at 3/3', 'taskFailed listener threw', 'workerStart listener threw'],
        heard: ['the task failed'],
        failed: 'the task failed',
        mapped: [2, 3, 4],
        after: 49,
      });
      expect(run.code).toBe(0);
    });
  });
}

/** Workers dying and replaced, as the stats count them and the events tell. */
export function workerEventTests(context: ContextName): void {
  describe('worker events', () => {
    const newPool = usePools(context);

    test('a crash counts one crash and one replacement, and the events come in order', async () => {
      const pool = newPool(1);
      const seen: unknown[] = [];
      const ids: unknown[] = [];
      const replaced = new Promise<void>((resolve) => {
        pool.on('workerStart', (worker) => {
          seen.push('workerStart');
          ids.push(worker.id);
          if (ids.length === 2) resolve();
        });
      });
      pool.on('taskFailed', (error) => seen.push(['taskFailed', (error as Error).name]));
      pool.on('workerExit', ({ id, code, crashed, replaced: wasReplaced }) => seen.push(['workerExit', id === ids[0], code, crashed, wasReplaced]));
      await rejectionOf(pool.apply(throwTypeError, ['no']));
      expect(await rejectionOf(pool.apply(exitWith, [3]))).toBeInstanceOf(WorkerCrashedError);
      expect(pool.stats().workers).toMatchObject({ crashes: 1, replacements: 1 });
      await replaced;
      expect(seen).toEqual(['workerStart', ['taskFailed', 'TypeError'], ['taskFailed', 'WorkerCrashedError'], ['workerExit', true, 3, true, true], 'workerStart']);
      expect(ids[1]).not.toBe(ids[0]);
      expect(await pool.apply(sqr, [4])).toBe(16);
    });
  });
}

/** A map's `onProgress`. */
export function progressTests(context: ContextName): void {
  describe('progress of a map', () => {
    const newPool = usePools(context);

    test('onProgress counts the items done, in order, its last call (total, total) before the map resolves', async () => {
      const pool = newPool();
      const calls: [number, number][] = [];
      const mapped = pool.map(sqr, range(50), { chunksize: 5, onProgress: (done, total) => calls.push([done, total]) });
      let callsWhenResolved = -1;
      const squares = await mapped.then((values) => {
        callsWhenResolved = calls.length;
        return values;
      });
      expect(squares).toEqual(range(50).map((x) => x * x));
      expect(callsWhenResolved).toBe(calls.length);
      expect(calls.at(-1)).toEqual([50, 50]);
      for (const [i, [done, total]] of calls.entries()) {
        expect(total).toBe(50);
        if (i > 0) expect(done).toBeGreaterThan(calls[i - 1]![0]);
      }
    });

    test('mapAsync and starmapAsync take it too', async () => {
      const pool = newPool();
      const last: [number, number][] = [];
      const keepLast = (done: number, total: number): void => {
        last.push([done, total]);
      };
      await pool.mapAsync(sqr, range(8), { chunksize: 2, onProgress: keepLast });
      await pool.starmapAsync((a: number, b: number) => a * b, [[1, 2], [3, 4]], { onProgress: keepLast });
      expect(last.filter(([done, total]) => done === total)).toEqual([[8, 8], [2, 2]]);
    });
  });
}

/** `maxQueue`, `queueFull` and `drained()`. */
export function backpressureTests(context: ContextName): void {
  describe('backpressure', () => {
    const newPool = usePools(context);

    test('past maxQueue tasks waiting, calls are refused with QueueFullError until the queue drains', async () => {
      const pool = newPool({ processes: 1, maxQueue: 2 });
      // The worker is still starting: both wait.
      const accepted = [pool.applyAsync(sqr, [1]), pool.applyAsync(sqr, [2])];
      expect(pool.queueFull).toBe(true);
      expect(() => pool.applyAsync(sqr, [3])).toThrow(QueueFullError);
      const refused = await rejectionOf(pool.map(sqr, [3, 4]));
      expect(refused).toBeInstanceOf(QueueFullError);
      expect((refused as Error).message).toMatch(/maxQueue 2/);
      await pool.drained();
      expect(pool.queueFull).toBe(false);
      expect(await Promise.all([...accepted, pool.applyAsync(sqr, [3])].map((result) => result.get()))).toEqual([1, 4, 9]);
    });

    test('a producer that waits for room never has more than maxQueue tasks waiting', async () => {
      const maxQueue = 4;
      const pool = newPool({ maxQueue });
      const results: Promise<number>[] = [];
      let mostQueued = 0;
      for (const x of range(200)) {
        if (pool.queueFull) await pool.drained();
        results.push(pool.applyAsync(sqr, [x]).get());
        mostQueued = Math.max(mostQueued, pool.stats().tasks.queued);
      }
      expect(await Promise.all(results)).toEqual(range(200).map((x) => x * x));
      expect(mostQueued).toBeLessThanOrEqual(maxQueue);
      expect(pool.stats().tasks).toMatchObject({ queued: 0, completed: 200 });
    });
  });
}

/** What every worker starts with: `env`, `execArgv`, `workerData`. */
export function workerOptionTests(context: ContextName): void {
  describe('worker options', () => {
    const newPool = usePools(context);
    const VARIABLE = 'MPOOL_TEST_VARIABLE';

    test('env sets and leaves out variables over the parent environment, execArgv adds flags, workerData is given: the initializer sees them, and every task', async () => {
      const workerData = { model: 'model.bin', sizes: new Map([['small', 1]]) };
      const pool = newPool({
        processes: 2,
        env: { [VARIABLE]: 'set by the pool', MPOOL_TEST_ABSENT: undefined },
        execArgv: ['--require', fixture('preload.cjs')],
        workerData,
        initializer: keepWhatInitSees,
        initargs: [VARIABLE],
      });
      const seen = await pool.map(startedWith, [VARIABLE, VARIABLE, VARIABLE, VARIABLE], 1);
      for (const started of seen) {
        expect(started).toEqual({
          workerData,
          atInit: { workerData, variable: 'set by the pool', preloaded: 'preloaded' },
          variable: 'set by the pool',
          hasPath: true,
          // A thread's flags travel in its NODE_OPTIONS, which its tasks see as the parent's.
          nodeOptions: process.env.NODE_OPTIONS ?? null,
          preloaded: 'preloaded',
        });
      }
      expect((await pool.apply(startedWith, ['MPOOL_TEST_ABSENT'])).variable).toBeNull();
    });

    test('a replacement worker starts with the same', async () => {
      const pool = newPool({ processes: 1, env: { [VARIABLE]: 'again' }, workerData: 'data' });
      await rejectionOf(pool.apply(exitWith, [1]));
      expect(await pool.apply(startedWith, [VARIABLE])).toMatchObject({ workerData: 'data', variable: 'again' });
    });

    test('env and execArgv are checked', () => {
      expect(() => newPool({ env: { [VARIABLE]: 1 as unknown as string } })).toThrow(new TypeError(`Expected \`env.${VARIABLE}\` to be a string (or undefined, to leave it out), got \`number\``));
      expect(() => newPool({ execArgv: '--no-warnings' as unknown as string[] })).toThrow(TypeError);
      expect(() => newPool({ execArgv: [''] })).toThrow(TypeError);
    });
  });
}
