/**
 * What only process contexts do: signals, terminate()'s grace period, children that never outlive
 * their parent, stderr passed through; and the 'auto' context moving from threads to processes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { task, transfer, WorkerCrashedError, type ContextName, type Pool } from '@mpool/pool';
import { byValue, fileWritten, useGates, usePools } from './conformance/helpers';
import { describeOrChdir, hold, workerId } from './conformance/fixtures';
import { childrenOf, gone } from './robustness/support';

const FIXTURES = join(__dirname, 'fixtures');
const processTasks = join(FIXTURES, 'process-tasks.mjs');
const ignoreSigterm = task<() => number>(processTasks, 'ignoreSigterm');
const initialised = task<() => boolean>(processTasks, 'initialised');
const semiSpaceFlags = task<() => { min?: number; max?: number }>(processTasks, 'semiSpaceFlags');
const loadedModules = task<(names: string[]) => string[]>(processTasks, 'loadedModules');
const mpoolFilesLoaded = task<() => string[]>(processTasks, 'mpoolFilesLoaded');
const crashWithData = task<(bytes: number) => Promise<never>>(processTasks, 'crashWithData');
/** Data big enough to travel beside its message on the process channel (64 KiB and more). */
const BIG_DATA_BYTES = 100_000;
const whereAmI = task<() => { pid: number; isMainThread: boolean }>(join(FIXTURES, 'thread-hostile.mjs'), 'whereAmI');
const chdirInit = task<() => void>(join(FIXTURES, 'thread-hostile.mjs'), 'chdirInit');
interface Place {
  item: number;
  pid: number;
  isMainThread: boolean;
}
const chdirAtTwo = task<(item: number) => Place>(join(FIXTURES, 'chdir-at.mjs'), 'chdirAtTwo');

const PROCESS_CONTEXTS: ContextName[] = ['fork', 'spawn', 'forkserver'];

function pidOf(worker: string): number {
  const pid = Number(worker.split(':')[0]);
  // 0 or a negative pid would signal a whole process group: never let a bad read do that.
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`not a worker pid: ${JSON.stringify(worker)}`);
  return pid;
}

/** What a fixture program printed, and how it ended. */
interface FixtureRun {
  readonly stdout: string;
  readonly stderr: string;
  /** 0, the exit code, or null when it was killed (a hang past the time limit). */
  readonly code: number | null;
  /** What was left in its temporary folder, when it was given one of its own. */
  readonly leftInTemp?: string[];
}

/**
 * Runs `fixtures/NAME context`, with a temporary folder (TMPDIR) of its own when `ownTemp`; one
 * that hangs instead of ending is killed after 20 s, and its run fails the test that looks.
 */
async function runFixture(name: string, context: string, { ownTemp = false, preload }: { ownTemp?: boolean; preload?: string } = {}): Promise<FixtureRun> {
  const temp = ownTemp ? mkdtempSync(join(tmpdir(), 'mpool-test-')) : undefined;
  const env = temp === undefined ? process.env : { ...process.env, TMPDIR: temp };
  const args = [...(preload === undefined ? [] : ['--require', join(FIXTURES, preload)]), join(FIXTURES, name), context];
  const run = await new Promise<FixtureRun>((resolve) => {
    execFile(process.execPath, args, { env, timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ stdout, stderr, code: error === null ? 0 : (error as { code?: number }).code ?? null });
    });
  });
  if (temp === undefined) return run;
  const leftInTemp = readdirSync(temp);
  rmSync(temp, { recursive: true, force: true });
  return { ...run, leftInTemp };
}

/** A run that ended by itself, with exit code 0 (its stderr shown when it did not). */
function expectCleanExit(run: FixtureRun): void {
  expect({ code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ code: 0, stderr: '' });
}

describe.each(PROCESS_CONTEXTS)('the %s context', (context) => {
  const newPool = usePools(context);
  const newGate = useGates();

  test('runs its workers in processes of their own', async () => {
    const pool = newPool();
    const ids = await pool.map(workerId, [1, 2, 3, 4], 1);
    for (const id of ids) expect(pidOf(id)).not.toBe(process.pid);
    expect(pool.context).toBe(context);
  });

  test("its workers' young generation keeps one size, 4 MiB semi-spaces, unless resourceLimits sets it", async () => {
    expect(await newPool(1).apply(semiSpaceFlags, [])).toEqual({ min: 4, max: 4 });
    // maxYoungGenerationSizeMb is three semi-spaces: 3 gives 1 MiB each; 60 lets them grow from 4 to 20.
    expect(await newPool({ processes: 1, resourceLimits: { maxYoungGenerationSizeMb: 3 } }).apply(semiSpaceFlags, [])).toEqual({ min: 1, max: 1 });
    expect(await newPool({ processes: 1, resourceLimits: { maxYoungGenerationSizeMb: 60 } }).apply(semiSpaceFlags, [])).toEqual({ min: 4, max: 20 });
  });

  test('its workers start without a thread of their own or the crypto module: nothing of Node they do not use', async () => {
    expect(await newPool(1).apply(loadedModules, [['worker_threads', 'crypto']])).toEqual([]);
  });

  test('its workers load the run loop as one bundled file, not the files it is built from', async () => {
    expect(await newPool(1).apply(mpoolFilesLoaded, [])).toEqual(['child.js', 'messages.js', 'worker-process.bundle.js']);
  });

  test("an uncaught error that carries big data reaches the pool whole, as the crash's cause", async () => {
    const error = await newPool(1).apply(crashWithData, [BIG_DATA_BYTES]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    const cause = (error as WorkerCrashedError).cause as Error & { data: Uint8Array };
    expect(cause.message).toBe('crashed with data');
    expect(cause.data).toHaveLength(BIG_DATA_BYTES);
    expect(cause.data.every((byte) => byte === 7)).toBe(true);
  });

  test('a worker killed with SIGKILL mid-task fails that task with the signal, and is replaced', async () => {
    const pool = newPool();
    const gate = newGate();
    const started = gate.started('victim');
    const running = pool.applyAsync(hold, [gate.path, started, 'never']);
    await fileWritten(started);
    const victim = pidOf(readFileSync(started, 'utf8'));
    process.kill(victim, 'SIGKILL');
    const error = await running.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect((error as WorkerCrashedError).signal).toBe('SIGKILL');
    expect((error as WorkerCrashedError).message).toMatch(/SIGKILL/);
    const after = await pool.map(workerId, [1, 2, 3, 4, 5, 6], 1);
    expect(after.map(pidOf)).not.toContain(victim);
  });

  test('terminate() kills a worker that ignores SIGTERM, after the grace period', async () => {
    const pool = newPool(1);
    const pid = await pool.apply(ignoreSigterm);
    const gate = newGate();
    const started = gate.started('stubborn');
    const running = pool.applyAsync(hold, [gate.path, started, 'never']);
    await fileWritten(started);
    await pool.terminate();
    await expect(running.get()).rejects.toThrow(/terminated/);
    await gone(pid);
  });

  test('no worker process outlives join()', async () => {
    const pool = newPool();
    const pids = (await pool.map(workerId, [1, 2, 3, 4], 1)).map(pidOf);
    await pool.close();
    await pool.join();
    await Promise.all(pids.map(gone));
  });

  test("no worker process outlives its parent when the parent's code throws, their stderr reaches the parent's, and their sockets are cleaned up", async () => {
    // The workers' sockets live in a directory the parent makes in the temporary folder.
    const { stdout, stderr, code, leftInTemp } = await runFixture('parent-throws.cjs', context, { ownTemp: true });
    expect(leftInTemp).toEqual([]);
    expect(code).not.toBe(0);
    expect(stderr).toContain('the parent program fails');
    expect(stderr).toContain('from-worker-a');
    expect(stderr).toContain('from-worker-b');
    const pids = JSON.parse(stdout.trim()) as number[];
    expect(pids).toHaveLength(2);
    await Promise.all(pids.map(gone));
  });

  test('the directory of the workers\' sockets is gone once they are, before the program ends', async () => {
    const run = await runFixture('socket-dir-gone.cjs', context, { ownTemp: true });
    expectCleanExit(run);
    const { during, after } = JSON.parse(run.stdout.trim()) as { during: string[]; after: string[] };
    expect(during).toHaveLength(1); // the directory, while the workers run
    expect(after).toEqual([]);
  });

  test('workers that cannot be started, for want of a directory for their sockets, fail the work with InitializerError, and nothing throws', async () => {
    const run = await runFixture('no-socket-dir.cjs', context, { ownTemp: true });
    expectCleanExit(run);
    const outcomes = JSON.parse(run.stdout.trim()) as unknown[];
    expect(outcomes[0]).toBe(1);
    expect(outcomes[outcomes.length - 1]).toMatch(/^InitializerError: .*none could be made.*Set TMPDIR/);
  });

  test('a worker whose socket the pool cannot reach is given up on, not waited for: the work fails with InitializerError', async () => {
    const run = await runFixture('socket-fails.cjs', context);
    expectCleanExit(run);
    expect(JSON.parse(run.stdout.trim())).toMatch(/^InitializerError: .*socket closed: connect ENOENT/);
  });
});

test("a worker that cannot read into a buffer of its own reads as before, and maps come back right ('fork': it takes the program's --require)", async () => {
  const run = await runFixture('fallback-reads.cjs', 'fork', { preload: 'no-handle-move.cjs' });
  expect(run.code).toBe(0);
  expect(run.stdout.trim()).toBe('true');
  // the workers did try, and took the other way
  expect(run.stderr).toContain('no socket around a moved handle');
});

/** The worker processes among the children of this process (those running mpool's worker entry). */
function workerProcesses(): number[] {
  return childrenOf(process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((arg) => arg.endsWith(join('processes', 'dist', 'child.js')));
    } catch {
      return false; // it ended while we looked
    }
  });
}

/** Resolves once `done()` holds; rejects, saying `what`, at the deadline. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + SPARE_LIMIT_MS;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${SPARE_LIMIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** How long a forkserver may take to start its spare once a worker has answered. */
const SPARE_LIMIT_MS = 10_000;

describe("the 'forkserver' context", () => {
  const newPool = usePools('forkserver');

  test('boots its spare once a worker has answered a task, not beside its workers while they boot', async () => {
    const before = workerProcesses();
    const started = (): number[] => workerProcesses().filter((pid) => !before.includes(pid));
    const pool = newPool(2);
    // Past the turns of the event loop in which a pool starts what it starts at once.
    await new Promise(setImmediate);
    await new Promise(setImmediate);
    expect(started()).toHaveLength(2);
    const [id] = await pool.map(workerId, [1], 1);
    await until(() => started().length === 3, 'a spare beside the two workers');
    expect(started()).toContain(pidOf(id as string));
  });
});

describe("the 'auto' context", () => {
  const newPool = usePools('auto');

  test('starts on threads', async () => {
    const pool = newPool();
    const [id] = await pool.map(workerId, [1], 1);
    expect(pidOf(id)).toBe(process.pid);
    expect(pool.context).toBe('thread');
  });

  test('moves to processes when a task module cannot load in a thread, warns once, and the task succeeds', async () => {
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const pool = newPool();
      const places = await Promise.all([pool.apply(whereAmI), pool.apply(whereAmI), pool.apply(whereAmI)]);
      for (const place of places) {
        expect(place.isMainThread).toBe(true);
        expect(place.pid).not.toBe(process.pid);
      }
      expect(pool.context).toBe('fork');
      await pool.apply(whereAmI);
      const fallbacks = emitWarning.mock.calls.filter(([, options]) => (options as { code?: string } | undefined)?.code === 'MPOOL_CONTEXT_FALLBACK');
      expect(fallbacks).toHaveLength(1);
      expect(String(fallbacks[0][0])).toMatch(/'fork' processes/);
    } finally {
      emitWarning.mockRestore();
    }
  });

  /** What an async iterator yields, in order (Array.fromAsync is Node 22's). */
  async function all<T>(iterator: AsyncIterable<T>): Promise<T[]> {
    const values: T[] = [];
    for await (const value of iterator) values.push(value);
    return values;
  }

  /** Every call that runs work, over items 0…3 (item 2 cannot run in a thread), and its chunk size. */
  const calls: [string, number, (pool: Pool) => Promise<Place[]>][] = [
    ['apply', 1, async (pool) => [await pool.apply(chdirAtTwo, [2])]],
    ['map', 4, (pool) => pool.map(chdirAtTwo, [0, 1, 2, 3], 4)],
    ['starmap', 4, (pool) => pool.starmap(chdirAtTwo, [[0], [1], [2], [3]], 4)],
    ['mapAsync', 4, (pool) => pool.mapAsync(chdirAtTwo, [0, 1, 2, 3], { chunksize: 4 }).get()],
    ['imap', 1, (pool) => all(pool.imap(chdirAtTwo, [0, 1, 2, 3], 1))],
    ['imapUnordered', 2, (pool) => all(pool.imapUnordered(chdirAtTwo, [0, 1, 2, 3], 2))],
  ];

  test.each(calls)('moves to processes when a task cannot run in a thread, through %s: the chunk that failed runs again whole on a process', async (_, chunksize, run) => {
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const pool = newPool();
      const places = await run(pool);
      expect(pool.context).toBe('fork');
      const byItem = new Map(places.map((place) => [place.item, place]));
      expect([...byItem.keys()].sort(byValue)).toEqual(places.length === 1 ? [2] : [0, 1, 2, 3]);
      // The items of item 2's chunk, those before it included, all ran in a worker process.
      const first = 2 - (2 % chunksize);
      for (let item = first; item < first + chunksize && item < 4; item++) {
        const place = byItem.get(item);
        expect(place?.isMainThread).toBe(true);
        expect(place?.pid).not.toBe(process.pid);
      }
    } finally {
      emitWarning.mockRestore();
    }
  });

  test('a task that moved buffers and cannot run in a thread fails with its own error, not run again; the pool moves all the same', async () => {
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const pool = newPool();
      const first = Float64Array.from([1, 2, 3]);
      await expect(pool.apply(describeOrChdir, [transfer(first, [first.buffer]), 2])).rejects.toMatchObject({ code: 'ERR_WORKER_UNSUPPORTED_OPERATION' });
      expect(first.byteLength).toBe(0); // it went to the thread, and stayed there
      expect(pool.context).toBe('fork');
      const second = Float64Array.from([1, 2, 3]);
      expect(await pool.apply(describeOrChdir, [transfer(second, [second.buffer]), 2])).toMatchObject({ kind: 'Float64Array', length: 3, sum: 6 });
      expect(second.byteLength).toBe(0);
    } finally {
      emitWarning.mockRestore();
    }
  });

  test('moves to processes when the initializer cannot run in a thread', async () => {
    const pool = newPool({ processes: 2, initializer: chdirInit });
    expect(await pool.map(initialised, [1, 2, 3], 1)).toEqual([true, true, true]);
    expect(pool.context).toBe('fork');
  });
});

describe("the 'thread' context", () => {
  const newPool = usePools('thread');

  test('fails a task that cannot load in a thread with the error that says so', async () => {
    const pool = newPool();
    await expect(pool.apply(whereAmI)).rejects.toMatchObject({ code: 'ERR_WORKER_UNSUPPORTED_OPERATION' });
    expect(pool.context).toBe('thread');
  });

  test('its workers load the run loop as one bundled file, not the files it is built from', async () => {
    expect(await newPool(1).apply(mpoolFilesLoaded, [])).toEqual(['worker.bundle.js']);
  });
});

test('a pool that is never closed does not keep Node running', async () => {
  const script = `
    const { Pool } = require('@mpool/pool');
    const pool = new Pool({ processes: 2, context: process.argv[1] });
    pool.apply((x) => x + 1, [1]).then((v) => console.log('result', v));
  `;
  for (const context of ['thread', 'spawn'] as const) {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['-e', script, context], { cwd: __dirname, timeout: 20_000 }, (error, out) => {
        if (error !== null) reject(error);
        else resolve(out);
      });
    });
    expect(stdout.trim()).toBe('result 2');
  }
});
