/**
 * Work sent to a worker process on its way out (its channel closed, its exit not heard yet) is not
 * lost and fails nothing: it runs on another worker. Only a task that kills its worker fails.
 */
import { join } from 'node:path';
import { task, WorkerCrashedError } from '@mpool/pool';
import { FIXTURES, sqr } from '../conformance/fixtures';
import { range, squares, usePools } from '../conformance/helpers';
import { CRASH_CODE_BASE, PROCESS_CONTEXTS, step, type StepKind } from './support';

const disconnectAndLinger = task<(lingerMs: number, busy: boolean) => number>(join(FIXTURES, 'process-tasks.mjs'), 'disconnectAndLinger');

/** How long the worker of the task that closes its channel lives on. */
const LINGER_MS = 1000;
/** Tiny tasks after it. */
const FOLLOWERS = 200;
/** A process's exit code is a byte: CRASH_CODE_BASE + index wraps around past it. */
const EXIT_CODE_MASK = 0xff;
/** Tasks in the storm, and every how many of them kills its worker. */
const STORM_TASKS = 200;
const KILLER_EVERY = 10;
/** The storm restarts a Node process for each of its 20 killers, at least once. */
const STORM_LIMIT_MS = 120_000;

/** A settled task, in words that a failing test shows whole. */
function outcome(result: PromiseSettledResult<number>): string | number {
  if (result.status === 'fulfilled') return result.value;
  const error = result.reason as Error;
  if (error instanceof WorkerCrashedError) return `WorkerCrashedError, exit code ${String(error.exitCode)}`;
  return `${error.name}: ${error.message}`;
}

describe.each(PROCESS_CONTEXTS)('on the %s context', (context) => {
  const newPool = usePools(context);

  test.each([
    ['busy in the task', true],
    ['idle, then exits by itself', false],
  ])("a task that closes its worker's IPC channel, the worker living on a second (%s), and many tasks after it: all succeed", async (_, busy) => {
    const pool = newPool(2);
    expect(typeof (await pool.apply(disconnectAndLinger, [LINGER_MS, busy]))).toBe('number');
    const followers = await Promise.allSettled(range(FOLLOWERS).map((i) => pool.apply(sqr, [i])));
    expect(followers.map(outcome)).toEqual(squares(FOLLOWERS));
  });
});

describe("a crash storm on 'spawn'", () => {
  const newPool = usePools('spawn');

  test(`${STORM_TASKS} tasks, every ${KILLER_EVERY}th of which kills its worker: every other task succeeds, and only the killers fail, with WorkerCrashedError`, async () => {
    const pool = newPool(2);
    const kinds: StepKind[] = range(STORM_TASKS).map((i) => (i % KILLER_EVERY === KILLER_EVERY - 1 ? 'crash' : 'ok'));
    const results = await Promise.allSettled(kinds.map((kind, i) => pool.apply(step, [kind, i])));
    const expected = kinds.map((kind, i) => (kind === 'ok' ? i * i : `WorkerCrashedError, exit code ${(CRASH_CODE_BASE + i) & EXIT_CODE_MASK}`));
    expect(results.map(outcome)).toEqual(expected);
  }, STORM_LIMIT_MS);
});
