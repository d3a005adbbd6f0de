/**
 * An open Manager lets go of the shared objects nobody can reach any more, and keeps those that
 * a handle in the parent, a running task's proxy or a pool's `initargs` still refer to. Measured
 * in a program of its own, started with --expose-gc so that it can force collections: the test
 * runner's heap is nobody's to measure.
 */
import { report, runProgram } from '../robustness/support';
import { CONTEXTS } from './support';

/** Generous: the program takes a few seconds at most. */
const PROGRAM_LIMIT_MS = 30_000;
/**
 * How far the collected heap may rise over 200,000 values made and dropped: under 10 bytes a
 * value. Keeping them all took over 60 MB.
 */
const HEAP_GROWTH_LIMIT_MB = 2;

interface Counts {
  registered: number;
  finalized: number;
}

interface Released {
  open: boolean;
  inParent: { made: Counts; heapGrowthMb: number };
  afterTasks: { used: Counts; answers: number };
  running: { finalizedWhileRunning: number; result: number; afterwards: Counts };
  initargs: number;
  queue: { items: Counts; left: number };
  stillKept: [number, number];
}

describe.each(CONTEXTS)("shared objects nobody refers to are let go, on the '%s' context", (context) => {
  test('those dropped in the parent or after their tasks, and what a queue handed out; not those a handle, a running task or initargs refers to', async () => {
    const run = await runProgram('released-shared.cjs', [context], { limitMs: PROGRAM_LIMIT_MS, nodeFlags: ['--expose-gc'] });
    const released = report<Released>(run);
    expect(run.code).toBe(0);
    // The manager is still open: it is not close() that lets go of them.
    expect(released.open).toBe(true);

    const { made, heapGrowthMb } = released.inParent;
    expect(made.registered).toBeGreaterThan(0);
    expect(made.finalized).toBe(made.registered);
    expect(heapGrowthMb).toBeLessThan(HEAP_GROWTH_LIMIT_MB);

    const { used, answers } = released.afterTasks;
    expect(answers).toBe(used.registered);
    expect(used.finalized).toBe(used.registered);

    // A value the parent dropped while a task used it: kept until the task ended, then let go.
    expect(released.running).toEqual({ finalizedWhileRunning: 0, result: 2, afterwards: { registered: 1, finalized: 1 } });
    expect(released.initargs).toBe(7);
    expect(released.stillKept).toEqual([41, 41]);

    // A queue that always held an item let go of every item taken from it.
    expect(released.queue.left).toBe(1);
    expect(released.queue.items.finalized).toBe(released.queue.items.registered - 1);
  }, PROGRAM_LIMIT_MS);
});
