/**
 * Every example in examples/ runs as a user runs it, as its own Node process with small sizes,
 * and says what it should. The examples are documentation; this keeps them from rotting.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const ROOT = join(__dirname, '..');
const EXAMPLES = join(ROOT, 'examples');

/** Longest an example may run here; each takes a second or two with the sizes below. */
const EXAMPLE_LIMIT_MS = 20_000;

/** Runs `node <file> ...args` from the repository root; rejects, with its stderr, if it fails. */
async function runExample(file: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync(process.execPath, [join(EXAMPLES, file), ...args], {
    cwd: ROOT,
    timeout: EXAMPLE_LIMIT_MS,
  });
  return stdout;
}

/** The lines of `output` that start, after indentation, with `prefix`. */
function linesStartingWith(output: string, prefix: string): string[] {
  return output.split('\n').filter((line) => line.trimStart().startsWith(prefix));
}

/** The worker ids (`pid:threadId`) listed on `context`'s lines, in order. */
function workerIds(lines: string[]): { pid: string; threadId: string }[] {
  return lines.flatMap((line) => [...line.matchAll(/\b(\d+):(\d+)\b/g)].map((m) => ({ pid: m[1], threadId: m[2] })));
}

/** lifecycle.mjs's report for one context: a line per item, then a summary line. */
function recyclingSection(output: string, context: string): { items: string[]; summary: string } {
  const lines = output.split('\n');
  const header = lines.findIndex((line) => line.startsWith(`${context}: `));
  const rest = lines.slice(header + 1);
  const end = rest.findIndex((line) => !line.trimStart().startsWith('item'));
  return { items: rest.slice(0, end), summary: rest[end] ?? '' };
}

test('pi estimates pi on 1 and 2 workers, on threads and on processes', async () => {
  const output = await runExample('pi.mjs', ['--terms', '2000000', '--chunks', '4', '--workers', '2']);
  const estimates = [...output.matchAll(/pi ≈ (\d+\.\d+)/g)].map((m) => Number(m[1]));
  expect(estimates).toHaveLength(4); // thread and spawn, each with 1 and 2 workers
  // 2,000,000 terms of the series leave an error of about 5e-7.
  for (const estimate of estimates) expect(Math.abs(estimate - Math.PI)).toBeLessThan(1e-6);
  expect(linesStartingWith(output, 'thread')).toHaveLength(3);
  expect(linesStartingWith(output, 'spawn')).toHaveLength(3);
});

test('image-tiles blurs an image in strips on threads over shared memory and on processes with transfer(), the same pixels every way', async () => {
  const output = await runExample('image-tiles.mjs', ['--size', '256', '--tiles', '8', '--workers', '2']);
  expect(output).toContain('box blur, radius 2, of a 256×256 RGBA image (0.3 MiB) in 8 strips');
  expect(output).toMatch(/one thread, no pool +\d+ ms/);
  for (const [context, how] of [['thread', 'SharedArrayBuffer'], ['spawn', 'transfer\\(\\)']]) {
    expect(output).toMatch(new RegExp(`${context} +1 worker , ${how} +\\d+ ms`));
    expect(output).toMatch(new RegExp(`${context} +2 workers, ${how} +\\d+ ms`));
    expect(output).toMatch(new RegExp(`${context} +speed-up with 2 workers: \\d+\\.\\d+× over 1 worker, \\d+\\.\\d+× over one thread`));
  }
  expect(output).toContain('same pixels every way: true');
});

test('pi-cluster estimates pi through BullMQ on one mpool-worker and on two, and stops the Redis and workers it started', async () => {
  // Its own Redis server, as a reader runs it (the tests' global setup has made sure there is one to start).
  const output = await runExample('pi-cluster.mjs', ['--terms', '2000000', '--chunks', '4']);
  const estimates = [...output.matchAll(/pi ≈ (\d+\.\d+)/g)].map((m) => Number(m[1]));
  expect(estimates).toHaveLength(2);
  for (const estimate of estimates) expect(Math.abs(estimate - Math.PI)).toBeLessThan(1e-6);
  expect(output).toMatch(/speed-up with 2 mpool-workers: \d+\.\d+×/);
  expect(output).toContain('stopped the 3 processes the example started');
});

test('waiting shows wait(ms) coming back early, get(ms) timing out, and the callbacks', async () => {
  const output = await runExample('waiting.mjs', ['--task-ms', '500', '--timeout-ms', '50']);
  expect(output).toContain('right away: ready() is false');
  expect(output).toContain('successful() throws ResultNotReadyError while it runs');
  expect(output).toMatch(/wait\(50\) came back after \d+ ms: ready\(\) is false/);
  expect(output).toMatch(/get\(50\) timed out after \d+ ms: TimeoutError: /);
  expect(output).toContain('successful() is true, get() gives 49');
  expect(output).toContain('callback(64)');
  expect(output).toContain('errorCallback(RangeError ERR_NEGATIVE_INPUT: Cannot take the square root of -1)');
  expect(output).toContain('the failed result: ready() is true, successful() is false');
  expect(output).toContain("get() rejects with the task's own error: instanceof RangeError true, code ERR_NEGATIVE_INPUT");
  expect(output).toContain('[1, 4, 9, 16]');
});

test("imap-progress counts the primes in order, then by map with its onProgress, with plain progress lines when not on a terminal", async () => {
  const output = await runExample('imap-progress.mjs', ['--below', '1000000', '--range', '1000', '--workers', '2']);
  expect(output).toContain('primes below 1,000,000: 78,498');
  expect(output).toContain('results in input order: all 1,000');
  const progress = output.split('\n').filter((line) => /^\s+\d+%\s+[\d,]+\/[\d,]+ ranges, .* primes so far$/.test(line));
  expect(progress.map((line) => line.trim().split('%')[0])).toEqual(['10', '20', '30', '40', '50', '60', '70', '80', '90', '100']);
  expect(progress[9]).toContain('1,000/1,000 ranges, 78,498 primes so far');
  expect(output).not.toContain('\u001b['); // a pipe gets no terminal escapes, so no bar
  const memory = output.split('\n').filter((line) => /rss +[\d.]+ MB +heapUsed +[\d.]+ MB/.test(line));
  expect(memory.map((line) => line.trim().split(/\s+/)[0])).toEqual(['first', '25%', '50%', '75%', '100%']);
  // map's onProgress: called at most every 10 ms, so some tenths may pass unseen, but never the last.
  expect(output).toContain('primes below 1,000,000 by map: 78,498');
  const mapProgress = output.split('\n').filter((line) => / ranges, [\d,]+ to go$/.test(line));
  const tenths = mapProgress.map((line) => Number(line.trim().split('%')[0]));
  expect(tenths).toEqual([...tenths].sort((a, b) => a - b));
  expect(mapProgress.at(-1)?.trim()).toBe('100%  1,000/1,000 ranges, 0 to go');
});

test('bounded-producer waits for room whenever maxQueue tasks wait: a call past it is refused, and every line is counted once', async () => {
  const output = await runExample('bounded-producer.mjs', ['--lines', '20000', '--max-queue', '500', '--workers', '2']);
  expect(output).toContain('20,000 log lines through 2 workers');
  expect(output).toContain("a call while 500 tasks wait is refused: QueueFullError: The pool's queue is full: 500 tasks wait for a worker (maxQueue 500)");
  expect(output).toContain('20,000 lines: 19,000 ok, 1,000 failed requests, 29,990,000 bytes, 0 task errors');
  expect(output).toMatch(/at most 500 tasks waited at once \(maxQueue 500\); the producer waited for room [1-9][\d,]* times/);
  expect(output).toMatch(/stats: 20,000 completed, 0 failed, 0 queued; wait p50 [\d.]+ ms, p99 [\d.]+ ms; utilization \d+%/);
});

test('lifecycle shows the initializer, recycled workers, close/join and terminate', async () => {
  const output = await runExample('lifecycle.mjs', ['--tasks', '6', '--max', '2', '--workers', '2', '--task-ms', '100']);
  for (const [context, sharesPid] of [['thread', true], ['spawn', false]] as const) {
    const { items, summary } = recyclingSection(output, context);
    expect(items).toHaveLength(6);
    for (const line of items) expect(line).toContain(`greeting 'hello from ${context}'`);
    // No worker ran more than 2 tasks, so 6 tasks needed at least 3 workers.
    const taskNumbers = items.map((line) => Number(/its task #(\d+)/.exec(line)?.[1]));
    expect(Math.max(...taskNumbers)).toBeLessThanOrEqual(2);
    const ids = workerIds(items);
    expect(new Set(ids.map(({ pid, threadId }) => `${pid}:${threadId}`)).size).toBeGreaterThanOrEqual(3);
    if (sharesPid) {
      expect(new Set(ids.map(({ pid }) => pid)).size).toBe(1);
      expect(ids.every(({ threadId }) => threadId !== '0')).toBe(true);
    } else {
      expect(new Set(ids.map(({ pid }) => pid)).size).toBeGreaterThanOrEqual(3);
      expect(ids.every(({ threadId }) => threadId === '0')).toBe(true);
    }
    expect(summary).toMatch(/6 tasks ran on \d+ different workers; the busiest ran [12] \(maxtasksperchild 2\); every worker ran the initializer once: true/);
  }
  expect(output).toContain("close() with 4 tasks of 100 ms pending: state is 'closed'");
  expect(output).toContain('new work is refused: PoolStateError');
  expect(output).toMatch(/join\(\) resolved after \d+ ms; 4 of 4 results delivered: \[0, 1, 2, 3\]/);
  expect(output).toContain('join() on a running pool: PoolStateError');
  expect(output).toContain("terminate() with 4 tasks of 100 ms pending: state is 'terminated'");
  expect(output).toContain('0 delivered, 4 rejected with PoolStateError');
});

test('typescript-tasks compiles, then runs typed tasks on threads and processes under await using', async () => {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [EXAMPLES] });
  await execFileAsync(process.execPath, [tsc, '-p', join(EXAMPLES, 'typescript-tasks')], { cwd: ROOT, timeout: EXAMPLE_LIMIT_MS });
  const output = await runExample('typescript-tasks/dist/main.js', ['--limit', '10000', '--workers', '2']);
  // Below 10,000, 6171 has the longest Collatz sequence: 261 steps.
  expect(linesStartingWith(output, 'below 10,000, 6171 takes the most Collatz steps: 261')).toHaveLength(2);
  expect(linesStartingWith(output, 'top words: the ×6, of ×2, work ×2')).toHaveLength(2);
  const threads = workerIds(linesStartingWith(output, 'thread:'));
  const processes = workerIds(linesStartingWith(output, 'spawn:'));
  expect(threads.length).toBeGreaterThan(0);
  expect(threads.every(({ threadId }) => threadId !== '0')).toBe(true);
  expect(processes.length).toBeGreaterThan(0);
  expect(processes.every(({ threadId }) => threadId === '0')).toBe(true);
  expect(output).toContain("after the block, the last pool is 'terminated'");
});

test('typescript-tasks runs with no build step under tsx, its .ts task module loaded on every context', async () => {
  const tsx = require.resolve('tsx/cli', { paths: [EXAMPLES] });
  const contexts = ['thread', 'fork', 'spawn', 'forkserver', 'auto'];
  const { stdout: output } = await execFileAsync(
    process.execPath,
    [tsx, join(EXAMPLES, 'typescript-tasks', 'main.ts'), '--limit', '10000', '--workers', '2', '--contexts', contexts.join(',')],
    { cwd: ROOT, timeout: EXAMPLE_LIMIT_MS },
  );
  expect(linesStartingWith(output, 'below 10,000, 6171 takes the most Collatz steps: 261')).toHaveLength(contexts.length);
  expect(linesStartingWith(output, 'top words: the ×6, of ×2, work ×2')).toHaveLength(contexts.length);
  for (const context of contexts) expect(linesStartingWith(output, `${context}: 2 workers`)).toHaveLength(1);
  // 'auto' stays on threads: the TypeScript module loads there.
  expect(workerIds(linesStartingWith(output, 'auto:')).every(({ threadId }) => threadId !== '0')).toBe(true);
  expect(output).toContain("after the block, the last pool is 'terminated'");
});

test('shared-state counts under a lock, fills a list and feeds tasks through queues, on threads and on processes', async () => {
  for (const context of ['thread', 'spawn']) {
    const output = await runExample('shared-state.mjs', ['--tasks', '4', '--increments', '25', '--items', '12', '--jobs', '6', '--workers', '2', '--context', context]);
    expect(output).toContain(`2 workers (${context})`);
    expect(output).toContain('counter: 100 after 4 tasks × 25 increments under the lock (expected 100)');
    expect(output).toContain('list: 12 items from 12 tasks, each exactly once: true');
    // 0² + 1² + … + 5² = 55, whichever task squared which job.
    expect(output).toMatch(/queue: 6 jobs put while 2 tasks waited for them \(they took \d and \d\); sum of the squares 55/);
  }
});
