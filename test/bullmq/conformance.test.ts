/**
 * The conformance suite's core on the 'bullmq' context: apply, map, imap, errors, transfer (which
 * a cluster copies), crashes and a
 * pool's lifecycle, on two mpool-worker processes serving the default queue of the tests' Redis.
 */
import { conformance } from '../conformance/suite';
import { jobsIn, NO_JOBS, redisUrl, useWorkers } from './cluster';

// Every pool of the suite, and the programs it runs, find Redis here.
process.env.MPOOL_REDIS_URL = redisUrl();

const crew = useWorkers('mpool', 2);

conformance('bullmq', ['apply', 'map', 'imap', 'errors', 'transfer', 'crashes', 'lifecycle']);

test('the pools left no job behind, but the one of the program that died, and their workers are still serving', async () => {
  // The program whose applyAsync callback throws unhandled dies before it can remove its job's
  // finished record: that one is left, for BullMQ to drop after an hour (see redis-link.ts).
  expect(await jobsIn('mpool')).toEqual({ ...NO_JOBS, completed: 1 });
  expect(crew.workers()).toHaveLength(2);
});
