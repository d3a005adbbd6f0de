/**
 * The conformance suite's core on the 'bullmq' context: apply, map, imap, errors, crashes and a
 * pool's lifecycle, on two mpool-worker processes serving the default queue of the tests' Redis.
 */
import { conformance } from '../conformance/suite';
import { jobsIn, NO_JOBS, redisUrl, useWorkers } from './cluster';

// Every pool of the suite, and the programs it runs, find Redis here.
process.env.MPOOL_REDIS_URL = redisUrl();

const crew = useWorkers('mpool', 2);

conformance('bullmq', ['apply', 'map', 'imap', 'errors', 'crashes', 'lifecycle']);

test('the pools left no job behind, and their workers are still serving', async () => {
  expect(await jobsIn('mpool')).toEqual(NO_JOBS);
  expect(crew.workers()).toHaveLength(2);
});
