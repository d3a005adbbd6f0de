/**
 * What the robustness tests share: typed references to the hazard tasks, a census of a pool's
 * workers, a census of this process's children, and a way to run a fixture program in its own
 * Node process.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { task, type ContextName, type Pool, type TaskOptions } from '@mpool/pool';
import { fixture, hold } from '../conformance/fixtures';
import { range, type Gate } from '../conformance/helpers';

export const CONTEXTS: readonly ContextName[] = ['thread', 'fork', 'spawn', 'forkserver', 'auto'];
/** The contexts whose workers are processes of their own from the start. */
export const PROCESS_CONTEXTS: readonly ContextName[] = ['fork', 'spawn', 'forkserver'];

const hazards = fixture('hazards.mjs');
export const stall = task<(startedPath: string | null) => never>(hazards, 'stall');
export const rejectUnhandled = task<(message: string) => Promise<never>>(hazards, 'rejectUnhandled');
export const allocateWithoutBound = task<() => never>(hazards, 'allocateWithoutBound');
export const recurseWithoutEnd = task<(depth: number) => number>(hazards, 'recurseWithoutEnd');

/** What a step of a random mix does; see `step` in fixtures/hazards.mjs. */
export type StepKind = 'ok' | 'throw' | 'crash' | 'stall';
export type Step = [kind: StepKind, index: number];
export const step = task<(kind: StepKind, index: number) => number>(hazards, 'step');
export const mapStep = task<(item: Step) => number>(hazards, 'mapStep');
/** Mirrors CRASH_CODE_BASE in fixtures/hazards.mjs. */
export const CRASH_CODE_BASE = 100;

/** How often the test side looks for a file a held task writes. */
const FILE_POLL_MS = 5;
/** How long every worker may take to pick up a held task, unless a test says otherwise. */
const ALL_WORKERS_LIMIT_MS = 10_000;

/** Resolves once `path` exists (the signal a task sends by writing it); rejects at `deadline`. */
async function fileWrittenBy(path: string, deadline: number, what: string): Promise<void> {
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen in time: ${path} was never written`);
    await new Promise((resolve) => setTimeout(resolve, FILE_POLL_MS));
  }
}

export interface CensusOptions {
  /** How long every worker may take to pick up its held task. Default: 10 s. */
  limitMs?: number;
  /** Options of the held tasks (a timeout longer than the pool's default, say). */
  taskOptions?: TaskOptions;
}

/**
 * The ids (`pid:threadId`) of the workers of `pool`, proven live and taking work: one held task
 * per worker, all running at the same time, each on a different worker.
 */
export async function workersAtOnce(pool: Pool, gate: Gate, options: CensusOptions = {}): Promise<string[]> {
  const slots = range(pool.processes);
  const held = slots.map((i) => pool.applyAsync(hold, [gate.path, gate.started(i), i], options.taskOptions));
  const deadline = Date.now() + (options.limitMs ?? ALL_WORKERS_LIMIT_MS);
  await Promise.all(slots.map((i) => fileWrittenBy(gate.started(i), deadline, `every one of the ${pool.processes} workers taking a task at once`)));
  const ids = slots.map((i) => readFileSync(gate.started(i), 'utf8'));
  gate.open();
  expect(await Promise.all(held.map((result) => result.get()))).toEqual(slots);
  expect(new Set(ids).size).toBe(pool.processes);
  return ids;
}

/**
 * The pid in a worker id, checked: a pid of 0 or below would signal a whole process group, and
 * this process's own pid is no worker's to kill.
 */
export function workerPid(id: string): number {
  const pid = Number(id.split(':')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) throw new Error(`not a worker process: ${JSON.stringify(id)}`);
  return pid;
}

/** Resolves as `promise` does, or rejects once `ms` have passed: a watchdog against hangs. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long a killed process may take to disappear from the process table. */
const GONE_LIMIT_MS = 10_000;

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the process `pid` exists and has not died: a zombie (dead, waiting for its parent to
 * reap it) does not count, since an orphan's new parent may take its time to reap it.
 */
export function isRunning(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  return state !== 'Z' && state !== 'X';
}

/** Resolves once no process has this pid any more (an exited child may linger until reaped). */
export async function gone(pid: number): Promise<void> {
  const giveUpAt = Date.now() + GONE_LIMIT_MS;
  while (isAlive(pid)) {
    if (Date.now() > giveUpAt) throw new Error(`process ${pid} is still alive`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The pids of the live processes whose parent is `parent`, read from /proc (zombies included). */
export function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // it ended while we looked
    }
    // The command name, in parentheses, may itself hold spaces and parentheses: read after the last one.
    const [, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(ppid) === parent) children.push(Number(entry));
  }
  return children;
}

export interface ProgramRun {
  /** The exit code, or null when a signal or the time limit ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Whether it was stopped for running past its time limit. */
  timedOut: boolean;
}

/** Runs `node ...nodeFlags test/fixtures/<name> ...args`; past `limitMs`, the program is killed. */
export function runProgram(name: string, args: readonly string[], options: { limitMs: number; nodeFlags?: readonly string[] }): Promise<ProgramRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...(options.nodeFlags ?? []), fixture(name), ...args],
      // This test file's environment (jest's own copy of it), which a context may read (MPOOL_REDIS_URL).
      { timeout: options.limitMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, env: process.env },
      (error, stdout, stderr) => {
        const failure = error as (Error & { code?: unknown; signal?: NodeJS.Signals | null; killed?: boolean }) | null;
        resolve({
          code: failure === null ? 0 : typeof failure.code === 'number' ? failure.code : null,
          signal: failure?.signal ?? null,
          stdout,
          stderr,
          timedOut: failure?.killed === true && Date.now() - started >= options.limitMs,
        });
      },
    );
  });
}

/** The last line of `stdout` parsed as JSON: how the fixture programs report. */
export function report<T>(run: ProgramRun): T {
  const lines = run.stdout.trim().split('\n');
  const last = lines[lines.length - 1];
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`The program reported no result (exit ${String(run.code)}, signal ${String(run.signal)}).\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}
