/**
 * Every way a task can hurt its worker, on every context. Each hazard settles its own result with
 * its own error class; afterwards the pool still has all its workers taking work at once (the
 * hurt one replaced, or the same one when it lived on), and keeps answering.
 *
 * Which hazard applies to which context:
 *
 *                                thread  fork  spawn  forkserver  auto
 *   process.exit mid-task          ✓      ✓     ✓        ✓         ✓
 *   a throw inside a timer         ✓      ✓     ✓        ✓         ✓
 *   an unhandled rejection         ✓      ✓     ✓        ✓         ✓
 *   SIGKILL                        –      ✓     ✓        ✓         –    a thread has no process of its own
 *   out of memory                  ✓      ✓     ✓        ✓         ✓
 *   stack overflow                 ✓      ✓     ✓        ✓         ✓    the task's own RangeError
 *   a task that never ends         ✓      ✓     ✓        ✓         ✓    with a timeout
 *   abort while running            ✓      ✓     ✓        ✓         ✓
 *   abort while queued             ✓      ✓     ✓        ✓         ✓
 *
 * ('auto' runs on threads until a task needs a process, and none of these does.)
 */
import { existsSync, readFileSync } from 'node:fs';
import { AbortError, TimeoutError, WorkerCrashedError, type ContextName, type Pool } from '@mpool/pool';
import { crashInTimer, exitWith, hold, sqr } from '../conformance/fixtures';
import { fileWritten, kindOf, range, rejectionOf, squares, useGates, usePools, type Gate, type PoolSettings } from '../conformance/helpers';
import { allocateWithoutBound, CONTEXTS, PROCESS_CONTEXTS, recurseWithoutEnd, rejectUnhandled, stall, workerPid, workersAtOnce } from './support';

/** Every matrix pool has two workers: one to hurt, one that must not notice. */
const WORKERS = 2;
/** The heap a worker gets when the hazard is running out of memory: small, so it runs out fast. */
const SMALL_HEAP_MB = 32;
/** The timeout of a task that never ends: short, since it is always reached. */
const STALL_TIMEOUT_MS = 300;

interface Tools {
  pool: Pool;
  context: ContextName;
  newGate: () => Gate;
}

interface Hazard {
  readonly name: string;
  /** The contexts it applies to: a column of the table above. */
  readonly contexts: readonly ContextName[];
  /** The error class its task fails with, for the test's title. */
  readonly fails: string;
  /** Whether the worker it ran on lives on (false: it is replaced). */
  readonly workerSurvives: boolean;
  readonly settings?: PoolSettings;
  /** Inflicts the hazard on `pool`; resolves with the error the hazard's own task failed with. */
  inflict(tools: Tools): Promise<unknown>;
  /** Checks that error. */
  check(error: unknown, context: ContextName): void;
}

const isProcess = (context: ContextName): boolean => PROCESS_CONTEXTS.includes(context);

function expectCrash(error: unknown): WorkerCrashedError {
  expect(error).toBeInstanceOf(WorkerCrashedError);
  return error as WorkerCrashedError;
}

const HAZARDS: readonly Hazard[] = [
  {
    name: 'process.exit mid-task',
    contexts: CONTEXTS,
    fails: 'WorkerCrashedError',
    workerSurvives: false,
    inflict: ({ pool }) => rejectionOf(pool.apply(exitWith, [5])),
    check: (error) => {
      expect(expectCrash(error)).toMatchObject({ exitCode: 5, signal: null });
    },
  },
  {
    name: 'a throw inside a timer',
    contexts: CONTEXTS,
    fails: 'WorkerCrashedError',
    workerSurvives: false,
    inflict: ({ pool }) => rejectionOf(pool.apply(crashInTimer, ['the timer went off'])),
    check: (error) => {
      const crash = expectCrash(error);
      expect(crash.exitCode).toBe(1);
      expect(kindOf(crash.cause)).toBe('Error');
      expect((crash.cause as Error).message).toBe('the timer went off');
    },
  },
  {
    name: 'an unhandled rejection',
    contexts: CONTEXTS,
    fails: 'WorkerCrashedError',
    workerSurvives: false,
    inflict: ({ pool }) => rejectionOf(pool.apply(rejectUnhandled, ['nobody handles this'])),
    check: (error) => {
      const crash = expectCrash(error);
      expect(crash.exitCode).toBe(1);
      expect(kindOf(crash.cause)).toBe('Error');
      expect((crash.cause as Error).message).toBe('nobody handles this');
    },
  },
  {
    name: 'SIGKILL',
    contexts: PROCESS_CONTEXTS,
    fails: 'WorkerCrashedError',
    workerSurvives: false,
    inflict: async ({ pool, newGate }) => {
      const started = newGate().started('victim');
      const running = pool.applyAsync(stall, [started]);
      await fileWritten(started);
      process.kill(workerPid(readFileSync(started, 'utf8')), 'SIGKILL');
      return rejectionOf(running.get());
    },
    check: (error) => {
      const crash = expectCrash(error);
      expect(crash).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
      expect(crash.message).toMatch(/SIGKILL/);
    },
  },
  {
    name: 'out of memory',
    contexts: CONTEXTS,
    fails: 'WorkerCrashedError',
    workerSurvives: false,
    settings: { processes: WORKERS, resourceLimits: { maxOldGenerationSizeMb: SMALL_HEAP_MB } },
    inflict: ({ pool }) => rejectionOf(pool.apply(allocateWithoutBound)),
    check: (error, context) => {
      const crash = expectCrash(error);
      expect(crash.message).toMatch(/out of memory/);
      // A process dies of V8's abort; a thread is stopped by Node and exits with an error.
      if (isProcess(context)) expect(crash.signal).toBe('SIGABRT');
      else expect(crash.exitCode).toBe(1);
    },
  },
  {
    name: 'stack overflow',
    contexts: CONTEXTS,
    fails: 'RangeError',
    workerSurvives: true,
    inflict: ({ pool }) => rejectionOf(pool.apply(recurseWithoutEnd, [0])),
    check: (error) => {
      expect(error).toBeInstanceOf(RangeError);
      expect((error as RangeError).message).toMatch(/call stack/);
    },
  },
  {
    name: 'a task that never ends, given a timeout',
    contexts: CONTEXTS,
    fails: 'TimeoutError',
    workerSurvives: false,
    inflict: ({ pool }) => rejectionOf(pool.apply(stall, [null], { timeout: STALL_TIMEOUT_MS })),
    check: (error) => {
      expect(error).toBeInstanceOf(TimeoutError);
      expect((error as TimeoutError).message).toContain(`${STALL_TIMEOUT_MS} ms`);
    },
  },
  {
    name: 'an abort while the task runs',
    contexts: CONTEXTS,
    fails: 'AbortError',
    workerSurvives: false,
    inflict: async ({ pool, newGate }) => {
      const controller = new AbortController();
      const started = newGate().started('aborted');
      const running = pool.applyAsync(stall, [started], { signal: controller.signal });
      await fileWritten(started);
      controller.abort(new Error('the caller gave up'));
      return rejectionOf(running.get());
    },
    check: (error) => {
      expect(error).toBeInstanceOf(AbortError);
      expect(error).toHaveProperty('name', 'AbortError');
      expect(((error as AbortError).cause as Error).message).toBe('the caller gave up');
    },
  },
  {
    name: 'an abort while the task is queued',
    contexts: CONTEXTS,
    fails: 'AbortError',
    workerSurvives: true,
    inflict: async ({ pool, newGate }) => {
      // Every worker busy, so the task with the signal waits in the queue.
      const busy = newGate();
      const held = range(WORKERS).map((i) => pool.applyAsync(hold, [busy.path, busy.started(i), i]));
      await Promise.all(range(WORKERS).map((i) => fileWritten(busy.started(i))));
      const controller = new AbortController();
      const wouldStart = newGate().started('queued');
      const queued = pool.applyAsync(hold, [busy.path, wouldStart, 'ran'], { signal: controller.signal });
      controller.abort(new Error('no longer wanted'));
      // It fails at once, while the workers are still held: it does not wait for a worker.
      const error = await rejectionOf(queued.get());
      expect(held.every((result) => !result.ready())).toBe(true);
      busy.open();
      expect(await Promise.all(held.map((result) => result.get()))).toEqual(range(WORKERS));
      // Anything still queued would run before these: the aborted task never ran.
      expect(await pool.map(sqr, range(8), 1)).toEqual(squares(8));
      expect(existsSync(wouldStart)).toBe(false);
      return error;
    },
    check: (error) => {
      expect(error).toBeInstanceOf(AbortError);
      expect(((error as AbortError).cause as Error).message).toBe('no longer wanted');
    },
  },
];

describe.each(CONTEXTS)("the '%s' context", (context) => {
  const newPool = usePools(context);
  const newGate = useGates();
  const applicable = HAZARDS.filter((hazard) => hazard.contexts.includes(context));
  const inapplicable = HAZARDS.filter((hazard) => !hazard.contexts.includes(context));

  test.each(applicable)('$name fails its own task with $fails; the pool keeps all its workers and goes on working', async (hazard) => {
    const pool = newPool(hazard.settings ?? WORKERS);
    const before = await workersAtOnce(pool, newGate());

    const error = await hazard.inflict({ pool, context, newGate });
    hazard.check(error, context);

    const after = await workersAtOnce(pool, newGate());
    expect(pool.processes).toBe(WORKERS);
    const survivors = after.filter((id) => before.includes(id));
    expect(survivors).toHaveLength(hazard.workerSurvives ? WORKERS : WORKERS - 1);
    expect(await pool.map(sqr, range(20), 3)).toEqual(squares(20));
  });

  if (inapplicable.length > 0) {
    test.each(inapplicable)('$name does not apply: its workers share this process', async () => {
      const pool = newPool();
      const ids = await workersAtOnce(pool, newGate());
      for (const id of ids) expect(Number(id.split(':')[0])).toBe(process.pid);
    });
  }
});
