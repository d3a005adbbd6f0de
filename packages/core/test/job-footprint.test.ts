/**
 * Timing the jobs' waits for `pool.stats()` adds nothing to each job: a job that has been timed
 * does not make every job after it larger. (A number that is not a small integer, kept in a
 * field of every Job, would be a heap number allocated with each, tiny tasks included.)
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { Job, type JobOwner } from '../src/job.js';
import { JobQueue } from '../src/scheduler/job-queue.js';
import { StatsCollector } from '../src/stats.js';
import type { FnEntry } from '../src/task.js';
import { RunMode } from '../src/wire.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const FN: FnEntry = { id: 0, spec: { kind: 'source', source: '(x) => x', label: 'x' } };
const NO_LIMITS = { timeoutMs: Infinity, signal: undefined };
const OWNER: JobOwner = { jobSucceeded: () => undefined, jobFailed: () => undefined };
/** Enough jobs that a few bytes more on each stand far above what else the heap does meanwhile. */
const JOBS = 100_000;
/**
 * Half a heap number (12 bytes, 16 where V8 aligns it), the least a job could gain: more than
 * this on each job is a number kept on it; the heap's own noise over JOBS jobs is far less.
 */
const GAINED_BYTES_LIMIT = 6;

/** The heap in use once everything unreachable is gone: a second collection ends the sweeping of the first. */
function heapInUse(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

/** Bytes of heap that each of JOBS new jobs takes, kept alive while they are counted. */
function bytesPerJob(): number {
  const jobs = new Array<Job>(JOBS);
  const before = heapInUse();
  for (let i = 0; i < JOBS; i++) jobs[i] = new Job(FN, RunMode.Apply, [i], 1, OWNER, undefined, NO_LIMITS);
  const bytes = (heapInUse() - before) / JOBS;
  jobs.fill(undefined as unknown as Job);
  return bytes;
}

test('jobs made after one was timed from its submission to its send take no more memory each', () => {
  const untimed = bytesPerJob();
  const queue = new JobQueue(new StatsCollector(), () => undefined);
  const timed = new Job(FN, RunMode.Apply, [0], 1, OWNER, undefined, NO_LIMITS);
  queue.push(timed);
  queue.next();
  queue.take();
  queue.complete(timed);
  expect(bytesPerJob() - untimed).toBeLessThan(GAINED_BYTES_LIMIT);
});
