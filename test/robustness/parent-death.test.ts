/**
 * A pool's parent that dies without a word (SIGKILL, or a signal sent to its pid only) takes its
 * worker processes with it, however busy their tasks keep them, and leaves no directory for their
 * sockets behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from '../conformance/fixtures';
import { childrenOf, isRunning } from './support';

/** How long the program may take to start its pools and have every task spinning. */
const STARTED_LIMIT_MS = 20_000;
/**
 * How long the workers may take to be gone once their parent is: they go within about a second;
 * this only tells "they went" from "they never go".
 */
const GONE_LIMIT_MS = 10_000;
const POLL_MS = 20;

interface Report {
  /** The pids of the workers running the spinning tasks. */
  workers: number[];
  /** Every child process of the program: the workers and the forkserver's spare. */
  children: number[];
  /** What the program's temporary folder held while they ran. */
  temp: string[];
}

/** The first line the program prints, parsed; rejects if it ends or takes too long first. */
function firstReport(program: ChildProcess): Promise<Report> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the program did not report its workers in time')), STARTED_LIMIT_MS);
    program.stdout?.on('data', (data: Buffer) => {
      out += data.toString();
      const end = out.indexOf('\n');
      if (end === -1) return;
      clearTimeout(timer);
      resolve(JSON.parse(out.slice(0, end)) as Report);
    });
    program.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the program ended before it reported (${signal ?? `code ${code}`})`));
    });
  });
}

/** Resolves once `done()` holds; rejects, saying what is left, at the deadline. */
async function until(done: () => boolean, left: () => string): Promise<void> {
  const deadline = Date.now() + GONE_LIMIT_MS;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`still there ${GONE_LIMIT_MS} ms after their parent died: ${left()}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The children of `parent` that are shells: the reaper of its worker processes. */
function shellsOf(parent: number): number[] {
  return childrenOf(parent).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === '/bin/sh';
    } catch {
      return false; // it ended while we looked
    }
  });
}

/** The program of orphaned-workers.cjs, running with a temporary folder of its own, and what it reported. */
interface Orphans {
  program: ChildProcess;
  report: Report;
  temp: string;
  /** Every process to see gone: its children at the report, and any the test adds. */
  pids: number[];
}

/**
 * Starts orphaned-workers.cjs, gives `body` its first report, then kills the program with
 * `signal` and waits until every process of `pids` is gone and the temporary folder is empty.
 * Whatever happens, nothing is left running or on disk.
 */
async function orphansOfKilledParent(signal: NodeJS.Signals, body: (orphans: Orphans) => void | Promise<void>): Promise<void> {
  const temp = mkdtempSync(join(tmpdir(), 'mpool-test-'));
  const scratch = mkdtempSync(join(tmpdir(), 'mpool-test-'));
  const program = spawn(process.execPath, [fixture('orphaned-workers.cjs'), scratch], {
    env: { ...process.env, TMPDIR: temp },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const pids: number[] = [];
  try {
    const report = await firstReport(program);
    pids.push(...new Set([...report.workers, ...report.children]));
    await body({ program, report, temp, pids });
    const exited = new Promise((resolve) => program.once('exit', resolve));
    program.kill(signal);
    await exited;
    await until(
      () => pids.every((pid) => !isRunning(pid)) && readdirSync(temp).length === 0,
      () => JSON.stringify({ running: pids.filter(isRunning), temp: readdirSync(temp) }),
    );
  } finally {
    program.kill('SIGKILL');
    for (const pid of pids) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    rmSync(temp, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
}

describe.each(['SIGKILL', 'SIGTERM'] as const)('a parent killed with %s, sent to its pid only', (signal) => {
  test("takes every worker process of every process context with it, busy as they are, and their sockets' directory", async () => {
    await orphansOfKilledParent(signal, ({ report }) => {
      expect(report.workers).toHaveLength(6); // two workers of each context
      expect(report.children.length).toBeGreaterThanOrEqual(6);
      expect(report.temp).toHaveLength(1); // the directory of the sockets
    });
  });
});

test('a reaper killed while its workers spin is replaced, and the workers still go with their parent', async () => {
  await orphansOfKilledParent('SIGKILL', async ({ program, pids }) => {
    const [reaper, ...others] = shellsOf(program.pid as number);
    expect(reaper).toBeDefined(); // the program's workers are watched by one
    expect(others).toEqual([]);
    process.kill(reaper as number, 'SIGKILL');
    let next: number[] = [];
    await until(
      () => (next = shellsOf(program.pid as number).filter((pid) => pid !== reaper && isRunning(pid))).length > 0,
      () => 'no reaper took the place of the one killed',
    );
    pids.push(...next);
  });
});

test('a parent killed while its workers boot leaves none of them running, nor their sockets, nor an error on its stderr', async () => {
  const temp = mkdtempSync(join(tmpdir(), 'mpool-test-'));
  const scratch = mkdtempSync(join(tmpdir(), 'mpool-test-'));
  const program = spawn(process.execPath, [fixture('orphaned-workers.cjs'), scratch, '--die-at-once'], {
    env: { ...process.env, TMPDIR: temp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  program.stdout?.on('data', (data: Buffer) => (out += data.toString()));
  program.stderr?.on('data', (data: Buffer) => (err += data.toString()));
  // The workers hold the program's stdout and stderr: both close once the last of them is gone.
  let closed = false;
  program.once('close', () => (closed = true));
  let children: number[] = [];
  try {
    await until(
      () => closed,
      () => `the program's output is still open: ${JSON.stringify({ out, err, temp: readdirSync(temp) })}`,
    );
    children = (JSON.parse(out.split('\n')[0]!) as Report).children;
    expect(children.length).toBeGreaterThanOrEqual(6); // two workers of each context
    expect(program.signalCode).toBe('SIGKILL');
    expect(children.filter(isRunning)).toEqual([]);
    expect(readdirSync(temp)).toEqual([]);
    expect(err).toBe('');
  } finally {
    program.kill('SIGKILL');
    for (const pid of children) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    rmSync(temp, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
});
