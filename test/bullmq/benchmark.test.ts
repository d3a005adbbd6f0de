/**
 * The 'bullmq' benchmark's smoke run (`benchmarks/bullmq.mjs --quick`): every row measured for
 * mpool and for plain BullMQ, the report written only where told, and nothing it started left
 * running.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
/** The quick run takes 10 to 15 seconds on 2 busy cores; the limit leaves room for a slow machine. */
const QUICK_RUN_LIMIT_MS = 120_000;

const isMeasurement = (value: number): boolean => Number.isFinite(value) && value > 0;

/** The pids of every process on the machine whose command line holds `text`. */
function processesRunning(text: string): number[] {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
    } catch {
      return false; // it ended while we looked
    }
  });
}

test('the bullmq benchmark measures every row for mpool and plain BullMQ, and stops the Redis and workers it started', async () => {
  const out = mkdtempSync(join(tmpdir(), 'mpool-bench-bullmq-'));
  try {
    const { stdout } = await execFileAsync(process.execPath, [join(ROOT, 'benchmarks', 'bullmq.mjs'), '--quick', '--out', out], { cwd: ROOT, timeout: QUICK_RUN_LIMIT_MS });
    const written = JSON.parse(readFileSync(join(out, 'bullmq.json'), 'utf8')) as { medians: Record<string, Record<string, number>> };
    const rows = ['oneByOne', 'tiny', 'map1000', 'map10000', 'piSpeedup'];
    for (const system of ['mpool bullmq', 'plain BullMQ']) {
      expect(Object.keys(written.medians[system])).toEqual(rows);
      for (const row of rows) expect([system, row, isMeasurement(written.medians[system][row])]).toEqual([system, row, true]);
    }
    expect(stdout).toContain('mpool ÷ plain');
    // Its workers, mpool's (their --root is the benchmark's tasks) and plain BullMQ's, are gone.
    expect(processesRunning(join(ROOT, 'benchmarks', 'tasks'))).toEqual([]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, QUICK_RUN_LIMIT_MS);
