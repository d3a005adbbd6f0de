/**
 * Timing the jobs' waits for `pool.stats()` adds nothing to each job: a job that has been timed
 * does not make every job after it larger. (A number that is not a small integer, kept in a
 * field of every Job, would be a heap number allocated with each, tiny tasks included.) Measured
 * on the built code in a Node of its own (fixtures/job-footprint.cjs), where no other test's
 * garbage moves the heap.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
/**
 * Half a heap number (12 bytes, 16 where V8 aligns it), the least a job could gain: more than
 * this on each job is a number kept on it; the heap's own noise over 100,000 jobs is far less.
 */
const GAINED_BYTES_LIMIT = 6;
/** A Node start and a few hundred thousand jobs, with room for a busy machine. */
const PROGRAM_LIMIT_MS = 20_000;

test('jobs made after one was timed from its submission to its send take no more memory each', async () => {
  const { stdout } = await execFileAsync(process.execPath, ['--expose-gc', join(__dirname, 'fixtures', 'job-footprint.cjs')], { timeout: PROGRAM_LIMIT_MS });
  const { untimed, timed } = JSON.parse(stdout) as { untimed: number; timed: number };
  expect(untimed).toBeGreaterThan(0);
  expect(timed - untimed).toBeLessThan(GAINED_BYTES_LIMIT);
});
