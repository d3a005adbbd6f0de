/**
 * What the conformance tests share: pools that are always cleaned up, a per-test scratch
 * directory, and gates — files a blocked task waits for — so that tests hold a task running for
 * as long as they need without sleeping.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool, type ContextName, type MpoolOptions } from '@mpool/pool';
import { hold } from './fixtures';

export type PoolSettings = number | Omit<MpoolOptions, 'context'>;

/** What `pool.context` reports for a fresh pool: 'auto' starts on threads. */
export function contextInUse(context: ContextName): string {
  return context === 'auto' ? 'thread' : context;
}

/** The conformance suite uses two workers unless a test needs otherwise. */
export const WORKERS = 2;

function optionsFor(context: ContextName, settings: PoolSettings): MpoolOptions {
  return typeof settings === 'number' ? { processes: settings, context } : { ...settings, context };
}

/**
 * A factory of pools in `context` for the tests of the enclosing describe block; every pool it
 * made is terminated after each test, whether the test passed or not.
 */
export function usePools(context: ContextName): (settings?: PoolSettings) => Pool {
  const pools: Pool[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.terminate()));
  });
  return (settings = WORKERS) => {
    const pool = new Pool(optionsFor(context, settings));
    pools.push(pool);
    return pool;
  };
}

/**
 * One pool for all the tests of the enclosing describe block, as CPython's pool tests share one:
 * for tests that leave the pool as they found it.
 */
export function useSharedPool(context: ContextName, settings: PoolSettings = WORKERS): () => Pool {
  let pool: Pool | undefined;
  beforeAll(() => {
    pool = new Pool(optionsFor(context, settings));
  });
  afterAll(async () => {
    await pool?.terminate();
  });
  return () => {
    if (pool === undefined) throw new Error('The shared pool exists only while the tests run');
    return pool;
  };
}

/**
 * A factory of gates for the tests of the enclosing describe block. Every gate a test made is
 * opened after the test, so that a test that fails half-way never leaves a task blocked.
 */
export function useGates(): () => Gate {
  let dir: string | undefined;
  let count = 0;
  const made: Gate[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mpool-conformance-'));
  });
  afterEach(() => {
    for (const gate of made.splice(0)) gate.open();
  });
  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (dir === undefined) throw new Error('Gates exist only while the tests run');
    const gate = new Gate(dir, `gate-${count++}`);
    made.push(gate);
    return gate;
  };
}

/** How often the test side looks for a file a task writes. */
const FILE_POLL_MS = 5;
/** Past this, a file that a task should have written is taken as never coming. */
const FILE_WAIT_LIMIT_MS = 10_000;

/** Resolves once `path` exists: the signal a task sends by writing it. */
export async function fileWritten(path: string): Promise<void> {
  const giveUpAt = Date.now() + FILE_WAIT_LIMIT_MS;
  while (!existsSync(path)) {
    if (Date.now() > giveUpAt) throw new Error(`${path} was never written`);
    await new Promise((resolve) => setTimeout(resolve, FILE_POLL_MS));
  }
}

/**
 * A gate for the `hold` fixture (made by `useGates`): tasks given `gate.path` block until `open()` creates it.
 * `started(label)` names the file a held task writes when it starts running.
 */
export class Gate {
  readonly path: string;
  readonly #prefix: string;

  constructor(dir: string, name: string) {
    this.#prefix = join(dir, name);
    this.path = `${this.#prefix}.open`;
  }

  started(label: string | number): string {
    return `${this.#prefix}.started-${label}`;
  }

  open(): void {
    writeFileSync(this.path, '');
  }
}

/**
 * Proves that `pool` has `pool.processes` live workers taking work: that many held tasks,
 * submitted together, are all running at the same time.
 */
export async function expectAllRunning(pool: Pool, gate: Gate): Promise<void> {
  const workers = range(pool.processes);
  const held = workers.map((i) => pool.applyAsync(hold, [gate.path, gate.started(i), i]));
  await Promise.all(workers.map((i) => fileWritten(gate.started(i))));
  gate.open();
  expect(await Promise.all(held.map((result) => result.get()))).toEqual(workers);
}

/** The reason `promise` rejects with; throws when it fulfils instead. */
export async function rejectionOf(promise: PromiseLike<unknown>): Promise<unknown> {
  let value: unknown;
  try {
    value = await promise;
  } catch (error) {
    return error;
  }
  throw new Error(`Expected a rejection, got the value ${String(value)}`);
}

/** Everything an async iterator yields, and the error that ended it, if one did. */
export async function drain<T>(iterator: AsyncIterable<T>): Promise<{ values: T[]; error: unknown; failed: boolean }> {
  const values: T[] = [];
  try {
    for await (const value of iterator) values.push(value);
  } catch (error) {
    return { values, error, failed: true };
  }
  return { values, error: undefined, failed: false };
}

/**
 * The built-in kind of a value (`'Map'`, `'Error'`, …). Values that Node itself deserialises
 * belong to Node's main realm, not to the test sandbox's, so `instanceof` cannot tell them here.
 */
export function kindOf(value: unknown): string {
  return Object.prototype.toString.call(value).slice(8, -1);
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

export const squares = (n: number): number[] => range(n).map((i) => i * i);

/** Sorts numbers by value (the default sort compares them as strings). */
export const byValue = (a: number, b: number): number => a - b;

/** The input's own error, as CPython's SayWhenError. */
export class SayWhen extends Error {
  override readonly name = 'SayWhen';
}

/** Yields 0…total-1 but throws when it reaches `when` (-1: before the first item). */
export function* throwingGenerator(total: number, when: number): Generator<number> {
  if (when === -1) throw new SayWhen('said when, at once');
  for (let i = 0; i < total; i++) {
    if (i === when) throw new SayWhen(`said when, at ${i}`);
    yield i;
  }
}

/** 0…n-1, one item per turn of the event loop. */
export async function* asyncRange(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) {
    await null;
    yield i;
  }
}
