/**
 * Nothing leaks: what passes through a pool is let go once delivered, a long stream keeps memory
 * flat, and once a pool is terminated no handle keeps Node alive and no child process is left.
 * Memory is measured in programs of their own, started with --expose-gc so that they can force
 * collections: the test runner's heap is nobody's to measure.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool, task, type ContextName } from '@mpool/pool';
import { exitWith, FIXTURES, sqr } from '../conformance/fixtures';
import { fileWritten, range, rejectionOf, squares, useGates } from '../conformance/helpers';
import { childrenOf, CONTEXTS, report, runProgram, workerPid, workersAtOnce } from './support';

/** Generous: each program takes a few seconds at most. */
const PROGRAM_LIMIT_MS = 30_000;
const MB = 1024 * 1024;
/**
 * How far the collected heap may rise above its level at a tenth of the stream. A leak of even
 * ten bytes an item over a million items passes it; a bounded window of work never comes near.
 */
const HEAP_GROWTH_LIMIT = 10 * MB;
/** How long a killed child of the pool's (the forkserver's spare) may take to be gone. */
const CHILD_GONE_LIMIT_MS = 5_000;

interface Released {
  state: string;
  kept: number;
  arguments: { registered: number; finalized: number };
  results: { registered: number; finalized: number };
}

describe('what passes through a pool is let go once delivered', () => {
  test.each(CONTEXTS)("on the '%s' context: every argument, though its result is kept, and every result, once dropped", async (context) => {
    const run = await runProgram('released-values.cjs', [context], { limitMs: PROGRAM_LIMIT_MS, nodeFlags: ['--expose-gc'] });
    const released = report<Released>(run);
    expect(run.code).toBe(0);
    expect(released.state).toBe('running');
    expect(released.arguments.registered).toBeGreaterThan(0);
    expect(released.kept).toBe(released.arguments.registered);
    expect(released.arguments.finalized).toBe(released.arguments.registered);
    expect(released.results.registered).toBeGreaterThan(0);
    expect(released.results.finalized).toBe(released.results.registered);
  }, PROGRAM_LIMIT_MS);
});

describe('a long stream through imapUnordered keeps memory flat', () => {
  const streams: [ContextName, number, number][] = [
    ['thread', 1_000_000, 1000],
    ['fork', 1_000_000, 1000],
    ['thread', 200_000, 1],
  ];

  test.each(streams)("on the '%s' context: %d tasks in chunks of %d", async (context, items, chunksize) => {
    const run = await runProgram('flat-memory.cjs', [context, String(items), String(chunksize)], { limitMs: PROGRAM_LIMIT_MS, nodeFlags: ['--expose-gc'] });
    const { count, samples } = report<{ count: number; samples: number[] }>(run);
    expect(run.code).toBe(0);
    expect(count).toBe(items);
    // The first tenth warms up (code, caches, the pipeline's window); after it, no growth.
    const warm = samples.slice(Math.floor(samples.length / 10));
    expect(warm.length).toBeGreaterThan(samples.length / 2);
    const highest = Math.max(...warm);
    expect(highest - warm[0]).toBeLessThan(HEAP_GROWTH_LIMIT);
  }, PROGRAM_LIMIT_MS);
});

test('a program that terminates or closes its pools, of every context, after working them hard, exits by itself', async () => {
  const run = await runProgram('exits-after-terminate.cjs', [...CONTEXTS], { limitMs: PROGRAM_LIMIT_MS });
  // On failure, the program's own list of what kept it alive is in the output shown.
  expect({ timedOut: run.timedOut, code: run.code, output: run.stdout + run.stderr }).toMatchObject({ timedOut: false, code: 0 });
  expect(run.stdout).toContain('returned');
}, PROGRAM_LIMIT_MS);

describe('no child process outlives its pool', () => {
  const newGate = useGates();
  const whereAmI = task<() => { pid: number }>(join(FIXTURES, 'thread-hostile.mjs'), 'whereAmI');

  /** The children of this process that `pool`'s work started, and its workers' pids. */
  async function startedBy(pool: Pool, before: readonly number[]): Promise<{ children: number[]; workers: number[] }> {
    await rejectionOf(pool.apply(exitWith, [2])); // a replacement too
    const workers = (await workersAtOnce(pool, newGate())).map(workerPid);
    const children = childrenOf(process.pid).filter((pid) => !before.includes(pid));
    for (const pid of workers) expect(children).toContain(pid);
    return { children, workers };
  }

  /** Resolves once none of `pids` is a child of this process any more; rejects after the limit. */
  async function allGone(pids: readonly number[]): Promise<void> {
    const deadline = Date.now() + CHILD_GONE_LIMIT_MS;
    let left = pids;
    while ((left = childrenOf(process.pid).filter((pid) => pids.includes(pid))).length > 0) {
      if (Date.now() > deadline) throw new Error(`child processes ${left.join(', ')} outlived their pool`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  const ending: [string, (pool: Pool) => Promise<void>][] = [
    ['terminate()', (pool) => pool.terminate()],
    ['close() and join()', async (pool) => {
      await pool.close();
      await pool.join();
    }],
  ];

  describe.each(ending)('after %s', (_, end) => {
    test.each(['fork', 'spawn', 'forkserver'] as const)("the '%s' context's workers are gone the moment it resolves, every other child soon after", async (context) => {
      // Taken first: a new pool starts its workers at once.
      const before = childrenOf(process.pid);
      const pool = new Pool({ processes: 2, context });
      try {
        const { children, workers } = await startedBy(pool, before);
        await end(pool);
        expect(childrenOf(process.pid).filter((pid) => workers.includes(pid))).toEqual([]);
        await allGone(children);
      } finally {
        await pool.terminate();
      }
    });
  });

  test("an 'auto' pool that moved to processes leaves none behind after terminate()", async () => {
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const before = childrenOf(process.pid);
    const pool = new Pool({ processes: 2, context: 'auto' });
    try {
      expect((await pool.apply(whereAmI)).pid).not.toBe(process.pid);
      expect(pool.context).toBe('fork');
      const { children, workers } = await startedBy(pool, before);
      expect(await pool.map(sqr, range(10), 2)).toEqual(squares(10));
      await pool.terminate();
      expect(childrenOf(process.pid).filter((pid) => workers.includes(pid))).toEqual([]);
      await allGone(children);
    } finally {
      emitWarning.mockRestore();
      await pool.terminate();
    }
  });
});

describe('a pool of processes that a thread task makes and never terminates', () => {
  const newGate = useGates();
  const leaveInnerPool = task<(context: ContextName, startedPath: string | null) => number>(join(FIXTURES, 'nested-pools.mjs'), 'leaveInnerPool');

  /** Resolves once this process has no child that was not among `before`, zombies included. */
  async function noNewChildren(before: readonly number[]): Promise<void> {
    const deadline = Date.now() + CHILD_GONE_LIMIT_MS;
    let left: number[];
    while ((left = childrenOf(process.pid).filter((pid) => !before.includes(pid))).length > 0) {
      if (Date.now() > deadline) throw new Error(`child processes ${left.join(', ')} (zombies or alive) outlived the thread that started them`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  const endings: [string, boolean, (pool: Pool) => Promise<void>][] = [
    ['after the task returned, terminate()', false, (pool) => pool.terminate()],
    ['after the task returned, close() and join()', false, async (pool) => {
      await pool.close();
      await pool.join();
    }],
    ['while the task still runs, never yielding, terminate()', true, (pool) => pool.terminate()],
  ];

  describe.each(endings)('%s on the outer pool', (_, busy, end) => {
    test.each(['fork', 'spawn', 'forkserver'] as const)("leaves no process of the inner '%s' pool, alive or zombie, nor its sockets' directory", async (context) => {
      // The thread takes its environment, and so its temporary folder, from this one's when it starts.
      const temp = mkdtempSync(join(tmpdir(), 'mpool-test-'));
      const savedTmpdir = process.env.TMPDIR;
      process.env.TMPDIR = temp;
      const before = childrenOf(process.pid);
      const outer = new Pool({ processes: 1, context: 'thread' });
      try {
        if (busy) {
          const started = newGate().started('spinning');
          void outer.apply(leaveInnerPool, [context, started]).catch(() => undefined);
          await fileWritten(started);
        } else {
          const innerWorker = await outer.apply(leaveInnerPool, [context, null]);
          expect(childrenOf(process.pid)).toContain(innerWorker);
        }
        await end(outer);
        await noNewChildren(before);
        expect(readdirSync(temp)).toEqual([]);
      } finally {
        await outer.terminate();
        if (savedTmpdir === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = savedTmpdir;
        rmSync(temp, { recursive: true, force: true });
      }
    });
  });
});
