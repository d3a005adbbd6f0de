/**
 * Work sent to a worker process on its way out (its channel closed, its exit not heard yet) is not
 * lost and fails nothing: it runs on another worker. Only a task that kills its worker fails.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { task, transfer, WorkerCrashedError } from '@mpool/pool';
import { FIXTURES, identity, sqr } from '../conformance/fixtures';
import { range, squares, usePools } from '../conformance/helpers';
import { CRASH_CODE_BASE, PROCESS_CONTEXTS, step, type StepKind } from './support';

const disconnectAndLinger = task<(lingerMs: number, busy: boolean) => number>(join(FIXTURES, 'process-tasks.mjs'), 'disconnectAndLinger');
const pidThenExit = task<(code: number) => number>(join(FIXTURES, 'process-tasks.mjs'), 'pidThenExit');

/** How long a worker that exits just after answering may take to be gone, at most. */
const EXIT_LIMIT_MS = 10_000;
const POLL_MS = 5;
/** The exit code of the worker that answers and exits. */
const EXIT_CODE = 3;

/**
 * Blocks this thread, its event loop with it, until process `pid` has exited (a zombie, or gone):
 * the pool hears nothing of the exit meanwhile. (Linux's /proc.)
 */
function blockUntilExited(pid: number): void {
  const deadline = Date.now() + EXIT_LIMIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    let state: string | undefined;
    try {
      state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    } catch {
      return; // gone
    }
    if (state === 'Z' || state === 'X') return;
    if (Date.now() > deadline) throw new Error(`worker ${pid} did not exit`);
    Atomics.wait(pause, 0, 0, POLL_MS);
  }
}

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

describe.each(PROCESS_CONTEXTS)('on the %s context, a worker that exits just after answering', (context) => {
  const newPool = usePools(context);

  test('is not blamed for a task sent to it after it exited, before the pool heard of its exit: that task runs on another worker', async () => {
    const pool = newPool(1);
    const pid = await new Promise<number>((resolve, reject) => {
      pool.applyAsync(pidThenExit, [EXIT_CODE], { callback: resolve, errorCallback: reject });
    });
    // The worker is gone, and this thread has not yet read of it: the next task is written to a
    // socket whose other end has closed.
    blockUntilExited(pid);
    expect(await pool.apply(sqr, [5])).toBe(25);
  });

  test('that task fails, if it moved buffers (transfer()): they went with it', async () => {
    const pool = newPool(1);
    const pid = await new Promise<number>((resolve, reject) => {
      pool.applyAsync(pidThenExit, [EXIT_CODE], { callback: resolve, errorCallback: reject });
    });
    blockUntilExited(pid);
    const bytes = new Uint8Array(16);
    const failed = pool.apply(identity, [transfer(bytes, [bytes.buffer])]);
    await expect(failed).rejects.toBeInstanceOf(WorkerCrashedError);
    await expect(failed).rejects.toThrow(/moved to it \(transfer\(\)\) went with/);
    expect(bytes.byteLength).toBe(0);
    expect(await pool.apply(sqr, [5])).toBe(25);
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
