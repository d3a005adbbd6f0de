/**
 * The conformance suite's core on the 'bullmq' context: apply, map, imap, errors, transfer (which
 * a cluster copies), crashes and a
 * pool's lifecycle, on two mpool-worker processes serving the default queue of the tests' Redis.
 */
import { task } from '@mpool/pool';
import { fixture } from '../conformance/fixtures';
import { usePools } from '../conformance/helpers';
import { conformance } from '../conformance/suite';
import { jobsIn, NO_JOBS, redisUrl, useWorkers } from './cluster';

// Every pool of the suite, and the programs it runs, find Redis here.
process.env.MPOOL_REDIS_URL = redisUrl();

const crew = useWorkers('mpool', 2);

conformance('bullmq', ['apply', 'map', 'imap', 'errors', 'transfer', 'crashes', 'lifecycle', 'stats', 'events', 'progress', 'backpressure']);

describe("what the 'bullmq' context's workers start with", () => {
  const newPool = usePools('bullmq');
  const observe = fixture('observe.mjs');
  const keepWhatInitSees = task<(name: string) => void>(observe, 'keepWhatInitSees');
  const startedWith = task<(name: string) => { workerData: unknown; atInit: unknown }>(observe, 'startedWith');

  test('workerData reaches the initializer and every task, on whichever worker runs it', async () => {
    const workerData = { model: 'model.bin', sizes: new Map([['small', 1]]) };
    const pool = newPool({ processes: 2, workerData, initializer: keepWhatInitSees, initargs: ['MPOOL_TEST_VARIABLE'] });
    for (const started of await pool.map(startedWith, ['A', 'B', 'C', 'D'], 1)) {
      expect(started).toMatchObject({ workerData, atInit: { workerData } });
    }
  });

  test("env and execArgv are refused: the workers' environment and Node flags are their machines'", () => {
    expect(() => newPool({ env: { A: 'b' } })).toThrow(/`env` and `execArgv` are not options of the 'bullmq' context/);
    expect(() => newPool({ execArgv: ['--no-warnings'] })).toThrow(TypeError);
  });
});

test('the pools left no job behind, but the one of the program that died, and their workers are still serving', async () => {
  // The program whose applyAsync callback throws unhandled dies before it can remove its job's
  // finished record: that one is left, for BullMQ to drop after an hour (see redis-link.ts).
  expect(await jobsIn('mpool')).toEqual({ ...NO_JOBS, completed: 1 });
  expect(crew.workers()).toHaveLength(2);
});
