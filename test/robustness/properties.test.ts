/**
 * Properties over random mixes of steps that succeed, throw, crash their worker (process.exit) or
 * stall (run forever, stopped by a small timeout), with random chunk sizes, pool sizes and
 * contexts: whatever the mix, every result settles once and as the steps say, nothing hangs, and
 * the pool ends the run with all its workers taking work.
 */
import fc from 'fast-check';
import { Pool, TimeoutError, WorkerCrashedError, type AsyncResult } from '@mpool/pool';
import { drain, useGates } from '../conformance/helpers';
import { CONTEXTS, CRASH_CODE_BASE, mapStep, step, within, workersAtOnce, type Step, type StepKind } from './support';

/** The timeout that stops a stalled step; ample for the other steps, which take microseconds. */
const STALL_TIMEOUT_MS = 400;
/** A generous bound on a run's results: past it, the run counts as hung. */
const RESULTS_LIMIT_MS = 15_000;
/** Every worker should take work again soon after the run; past this, one is taken as lost. */
const ALL_WORKERS_LIMIT_MS = 4_000;
/** Runs per property: each starts a pool, so that each meets a fresh random context. */
const RUNS = 15;
/** After this long, a property stops starting runs (and shrinking): the file stays quick. */
const PROPERTY_LIMIT_MS = 15_000;
const TEST_LIMIT_MS = PROPERTY_LIMIT_MS + 2 * (RESULTS_LIMIT_MS + ALL_WORKERS_LIMIT_MS);

const kindArb: fc.Arbitrary<StepKind> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<StepKind>('ok') },
  { weight: 2, arbitrary: fc.constant<StepKind>('throw') },
  { weight: 1, arbitrary: fc.constant<StepKind>('crash') },
  { weight: 1, arbitrary: fc.constant<StepKind>('stall') },
);

interface Scenario {
  context: (typeof CONTEXTS)[number];
  workers: number;
  chunksize: number;
  steps: Step[];
  /** Whether the stall timeout is the pool's default rather than the call's option. */
  timeoutOnPool: boolean;
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  context: fc.constantFrom(...CONTEXTS),
  workers: fc.integer({ min: 1, max: 2 }),
  chunksize: fc.integer({ min: 1, max: 4 }),
  steps: fc.array(kindArb, { maxLength: 12 }).map((kinds) => kinds.map((kind, index): Step => [kind, index])),
  timeoutOnPool: fc.boolean(),
});

const SETTINGS = { numRuns: RUNS, interruptAfterTimeLimit: PROPERTY_LIMIT_MS, markInterruptAsFailure: false };

const hasStall = (steps: readonly Step[]): boolean => steps.some(([kind]) => kind === 'stall');
const expectedValue = ([, index]: Step): number => index * index;

/** A step's error, described so that it can be compared with what a failing step should give. */
function describeError(error: unknown): string {
  if (error instanceof WorkerCrashedError) return `WorkerCrashedError, exit code ${String(error.exitCode)}`;
  if (error instanceof TimeoutError) return 'TimeoutError';
  if (error instanceof RangeError) return `RangeError: ${error.message}`;
  return `unexpected: ${String(error)}`;
}

/** What a failing step fails with, described as `describeError` does. */
function expectedError([kind, index]: Step): string {
  switch (kind) {
    case 'throw':
      return `RangeError: step ${index} failed`;
    case 'crash':
      return `WorkerCrashedError, exit code ${CRASH_CODE_BASE + index}`;
    case 'stall':
      return 'TimeoutError';
    default:
      throw new Error(`step ${index} does not fail`);
  }
}

function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/**
 * What a map over `steps` may fail with: a chunk stops at its first failing step, and any chunk's
 * failure may be the first to arrive. Also the steps that may succeed: those before any failure
 * in their chunk.
 */
function mapExpectations(steps: readonly Step[], chunksize: number): { errors: string[]; mayYield: number[] } {
  const errors: string[] = [];
  const mayYield: number[] = [];
  for (const chunk of chunksOf(steps, chunksize)) {
    const failing = chunk.findIndex(([kind]) => kind !== 'ok');
    if (failing !== -1) errors.push(expectedError(chunk[failing]));
    mayYield.push(...chunk.slice(0, failing === -1 ? chunk.length : failing).map(expectedValue));
  }
  return { errors, mayYield };
}

describe('whatever the mix of steps', () => {
  const newGate = useGates();
  const live = new Set<Pool>();
  afterEach(async () => {
    await Promise.all([...live].map((pool) => pool.terminate()));
    live.clear();
  });

  /**
   * Runs `body` on a fresh pool for `scenario`; then every worker must take work again, and then
   * the check `body` returned runs once more (a callback called twice would be seen by then). The
   * pool is terminated whatever happens, so that a hung run cannot hold the next one up.
   */
  async function onPool(scenario: Scenario, body: (pool: Pool) => Promise<() => void>): Promise<void> {
    const timeout = scenario.timeoutOnPool && hasStall(scenario.steps) ? { timeout: STALL_TIMEOUT_MS } : {};
    const pool = new Pool({ processes: scenario.workers, context: scenario.context, ...timeout });
    live.add(pool);
    try {
      const checkAgain = await within(RESULTS_LIMIT_MS, 'every result settling', body(pool));
      // The held tasks must outlast the pool's stall timeout, if it has one.
      await workersAtOnce(pool, newGate(), { limitMs: ALL_WORKERS_LIMIT_MS, taskOptions: { timeout: 2 * ALL_WORKERS_LIMIT_MS } });
      expect(pool.processes).toBe(scenario.workers);
      checkAgain();
    } finally {
      await pool.terminate();
      live.delete(pool);
    }
  }

  /** The options of a map: the stall timeout goes on the call unless the pool has it. */
  const mapOptions = (scenario: Scenario): { chunksize: number; timeout?: number } =>
    hasStall(scenario.steps) && !scenario.timeoutOnPool ? { chunksize: scenario.chunksize, timeout: STALL_TIMEOUT_MS } : { chunksize: scenario.chunksize };

  test('mapAsync resolves, in input order, exactly when no step fails, else rejects with the error of a failing step; one callback, once', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, (scenario) =>
        onPool(scenario, async (pool) => {
          const calls: string[] = [];
          const result = pool.mapAsync(mapStep, scenario.steps, {
            ...mapOptions(scenario),
            callback: () => calls.push('callback'),
            errorCallback: () => calls.push('errorCallback'),
          });
          const { errors } = mapExpectations(scenario.steps, scenario.chunksize);
          let values: number[] | undefined;
          let error: unknown;
          try {
            values = await result.get();
          } catch (thrown) {
            error = thrown;
          }
          const expectedCalls = errors.length === 0 ? ['callback'] : ['errorCallback'];
          if (errors.length === 0) {
            expect(values).toEqual(scenario.steps.map(expectedValue));
          } else {
            expect(values).toBeUndefined();
            expect(errors).toContain(describeError(error));
          }
          expect(calls).toEqual(expectedCalls);
          return () => expect(calls).toEqual(expectedCalls);
        }),
      ),
      SETTINGS,
    );
  }, TEST_LIMIT_MS);

  test('imapUnordered yields a permutation of the results when no step fails, else ends with the error of a failing step', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, (scenario) =>
        onPool(scenario, async (pool) => {
          const { values, error, failed } = await drain(pool.imapUnordered(mapStep, scenario.steps, mapOptions(scenario)));
          const { errors, mayYield } = mapExpectations(scenario.steps, scenario.chunksize);
          const byValue = (a: number, b: number): number => a - b;
          if (errors.length === 0) {
            expect(failed).toBe(false);
            expect([...values].sort(byValue)).toEqual(scenario.steps.map(expectedValue).sort(byValue));
          } else {
            expect(failed).toBe(true);
            expect(errors).toContain(describeError(error));
            // What came before the error are results of steps that succeeded, each once.
            expect(new Set(values).size).toBe(values.length);
            for (const value of values) expect(mayYield).toContain(value);
          }
          return () => undefined;
        }),
      ),
      SETTINGS,
    );
  }, TEST_LIMIT_MS);

  test('every applyAsync result settles exactly once, as its own step says, through exactly one callback', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, (scenario) =>
        onPool(scenario, async (pool) => {
          const calls = scenario.steps.map(() => ({ values: [] as number[], errors: [] as unknown[] }));
          const results: AsyncResult<number>[] = scenario.steps.map(([kind, index]) =>
            pool.applyAsync(step, [kind, index], {
              ...(kind === 'stall' && !scenario.timeoutOnPool ? { timeout: STALL_TIMEOUT_MS } : {}),
              callback: (value) => calls[index].values.push(value),
              errorCallback: (error) => calls[index].errors.push(error),
            }),
          );
          await Promise.all(results.map((result) => result.wait()));
          for (const [i, stepped] of scenario.steps.entries()) {
            const result = results[i];
            expect(result.ready()).toBe(true);
            if (stepped[0] === 'ok') {
              expect(calls[i]).toEqual({ values: [expectedValue(stepped)], errors: [] });
              expect(result.successful()).toBe(true);
              expect(await result.get()).toBe(expectedValue(stepped));
            } else {
              expect(calls[i].values).toEqual([]);
              expect(calls[i].errors).toHaveLength(1);
              expect(describeError(calls[i].errors[0])).toBe(expectedError(stepped));
              expect(result.successful()).toBe(false);
              const error = await result.get().then(
                () => undefined,
                (thrown: unknown) => thrown,
              );
              expect(error).toBe(calls[i].errors[0]);
            }
          }
          const settledOnce = (): void => {
            for (const made of calls) expect(made.values.length + made.errors.length).toBe(1);
          };
          return settledOnce;
        }),
      ),
      SETTINGS,
    );
  }, TEST_LIMIT_MS);
});
