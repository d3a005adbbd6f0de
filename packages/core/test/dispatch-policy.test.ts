/** The dispatch policy alone: how much work each worker is given, from plain snapshots of workers. */
import { Allowance, DurationEstimate, mayQueueBehind, pipelineDepth, planDispatch, type JobLoad, type WorkerLoad } from '../src/scheduler/dispatch-policy.js';

/** The documented bound on items in flight per worker. */
const MAX_IN_FLIGHT = 1024;
/** Milliseconds of work the policy keeps in flight per worker. */
const PIPELINE_TARGET_MS = 1;
/** A worker that has not answered for longer than this gets no more work. */
const STALL_MS = 5;

interface Worker extends WorkerLoad {
  readonly name: string;
}

/** A ready, idle worker with quota left, changed by `load`. */
function worker(name: string, load: Partial<WorkerLoad> = {}): Worker {
  return { name, ready: true, starting: false, quota: Infinity, isolating: false, inFlightCount: 0, inFlightWeight: 0, oldestAlone: false, lastProgress: 0, ...load };
}

const job = (weight: number, alone = false): JobLoad => ({ weight, alone });
const names = (allowances: readonly Allowance<Worker>[]): string[] => allowances.map((a) => a.worker.name);

describe('the estimate of an item’s duration', () => {
  test('is unknown until a worker reports busy time, then follows the reports within a few batches', () => {
    const estimate = new DurationEstimate();
    expect(estimate.perItemMs).toBeNaN();
    estimate.sample(0, 10); // no busy time reported: still unknown
    expect(estimate.perItemMs).toBeNaN();
    estimate.sample(10, 10);
    expect(estimate.perItemMs).toBe(1);
    estimate.sample(30, 10);
    expect(estimate.perItemMs).toBe(2); // halfway to the new sample
    for (let i = 0; i < 10; i++) estimate.sample(30, 10);
    expect(estimate.perItemMs).toBeCloseTo(3, 2);
  });
});

describe('the pipeline depth', () => {
  test('is one item while the duration is unknown, and never below one however long an item takes', () => {
    expect(pipelineDepth(Number.NaN)).toBe(1);
    expect(pipelineDepth(50)).toBe(1);
  });

  test('keeps about a millisecond of work in flight, up to the bound on items', () => {
    expect(pipelineDepth(PIPELINE_TARGET_MS / 100)).toBe(100);
    expect(pipelineDepth(0.000001)).toBe(MAX_IN_FLIGHT);
    expect(pipelineDepth(0)).toBe(MAX_IN_FLIGHT);
  });

  test('for workers whose messages take a round trip to answer (other machines), keeps that much work in flight', () => {
    expect(pipelineDepth(0.1, 20)).toBe(200);
    expect(pipelineDepth(0.1, 0.5)).toBe(pipelineDepth(0.1)); // never less than the local target
  });
});

describe('which workers are sent work', () => {
  test('ready workers with quota left, not running a job alone, idle or answering: least loaded first', () => {
    const now = 1000;
    const workers = [
      worker('busy', { inFlightCount: 3, inFlightWeight: 30, lastProgress: now - 1 }),
      worker('idle'),
      worker('stalled', { inFlightCount: 1, inFlightWeight: 1, lastProgress: now - STALL_MS }),
      worker('isolating', { inFlightCount: 1, inFlightWeight: 1, isolating: true, lastProgress: now }),
      worker('quota spent', { quota: 0 }),
      worker('starting', { ready: false, starting: true }),
      worker('retiring', { ready: false }),
      worker('lighter', { inFlightCount: 1, inFlightWeight: 5, lastProgress: now - 1 }),
    ];
    expect(names(planDispatch(workers, 100, 0.01, now))).toEqual(['idle', 'lighter', 'busy']);
  });

  test('a worker whose messages take a round trip to answer is stalled only once that much longer has passed', () => {
    const now = 1000;
    const answering = [worker('remote', { inFlightCount: 1, inFlightWeight: 1, lastProgress: now - STALL_MS - 10 })];
    expect(names(planDispatch(answering, 100, 0.01, now))).toEqual([]);
    expect(names(planDispatch(answering, 100, 0.01, now, 20))).toEqual(['remote']);
    const stalled = [worker('remote', { inFlightCount: 1, inFlightWeight: 1, lastProgress: now - STALL_MS - 20 })];
    expect(names(planDispatch(stalled, 100, 0.01, now, 20))).toEqual([]);
  });

  test('workers still starting count in the fair share, so that the first one ready does not take a whole burst', () => {
    const [alone] = planDispatch([worker('ready')], 100, 0.000001, 0);
    expect(alone!.invites(job(1))).toBe(true);
    const [shared] = planDispatch([worker('ready'), worker('starting', { ready: false, starting: true })], 100, 0.000001, 0);
    // Its share is half the queue: 50 items, sent 512 at most a message.
    expect(shared!.admits(49, job(1), 0)).toBe(true);
    expect(shared!.admits(50, job(1), 0)).toBe(false);
    expect(alone!.admits(99, job(1), 0)).toBe(true);
  });
});

describe('an allowance', () => {
  test('is the pipeline depth less what the worker has in flight, sent in messages of half the depth', () => {
    // 0.01 ms an item: a depth of 100 items, messages of 50.
    const [allowance] = planDispatch([worker('w', { inFlightCount: 1, inFlightWeight: 20, lastProgress: 0 })], 1000, 0.01, 0);
    expect(allowance!.admits(49, job(1), 0)).toBe(true);
    expect(allowance!.admits(50, job(1), 0)).toBe(false);
    allowance!.spend(50);
    // 30 of its 80 items of room are left.
    expect(allowance!.admits(29, job(1), 1)).toBe(true);
    expect(allowance!.admits(30, job(1), 1)).toBe(false);
    allowance!.spend(30);
    expect(allowance!.invites(job(1))).toBe(false);
  });

  test('an idle worker is always sent something, a job longer than its whole depth included', () => {
    const [allowance] = planDispatch([worker('w')], 1, 50, 0);
    expect(allowance!.invites(job(1))).toBe(true);
    allowance!.spend(1);
    expect(allowance!.invites(job(1))).toBe(true); // it has nothing in flight yet, as the snapshot says
  });

  test('nothing goes to a worker running a job alone, nor to one whose quota is spent', () => {
    const isolating = worker('w', { isolating: true });
    const spent = worker('v', { quota: 0 });
    const plan = { depth: 100, perMessage: 50, perItemMs: 0.01 };
    expect(new Allowance(isolating, 10, plan).invites(job(1))).toBe(false);
    expect(new Allowance(spent, 10, plan).invites(job(1))).toBe(false);
  });

  test('short chunks beyond the room may queue behind others, from the second round on, within the fair share', () => {
    // 0.0001 ms an item: a depth of 1,024; chunks of 2,000 items take 0.2 ms each.
    const perItemMs = 0.0001;
    const busy = worker('w', { inFlightCount: 1, inFlightWeight: 2000, lastProgress: 0 });
    const [allowance] = planDispatch([busy], 8000, perItemMs, 0);
    expect(allowance!.invites(job(2000))).toBe(true); // no room, but a short chunk may wait behind its short one
    expect(allowance!.admits(2000, job(2000), 0)).toBe(false); // not in the first round
    expect(allowance!.admits(2000, job(2000), 1)).toBe(true);
    expect(allowance!.admits(6001, job(2000), 1)).toBe(false); // beyond its share of 8,000
    expect(allowance!.admits(2000, job(2000, true), 1)).toBe(false); // a job that runs alone never waits behind another
  });
});

describe('a chunk queued behind others on a worker', () => {
  const depth = 1024;
  const perItemMs = 0.0001;
  const loaded = (weight: number, load: Partial<WorkerLoad> = {}): WorkerLoad => worker('w', { inFlightCount: 1, inFlightWeight: weight, lastProgress: 0, ...load });

  test('is a chunk too big for the depth, short, behind work that is short too', () => {
    expect(mayQueueBehind(loaded(2000), job(2000), depth, perItemMs)).toBe(true);
  });

  test('is never a job the depth holds, one that runs alone, or one behind a job that runs alone', () => {
    expect(mayQueueBehind(loaded(2000), job(depth), depth, perItemMs)).toBe(false);
    expect(mayQueueBehind(loaded(2000), job(2000, true), depth, perItemMs)).toBe(false);
    expect(mayQueueBehind(loaded(2000, { oldestAlone: true }), job(2000), depth, perItemMs)).toBe(false);
    expect(mayQueueBehind(loaded(2000), undefined, depth, perItemMs)).toBe(false);
  });

  test('is never behind nothing, nor a long chunk, nor behind long work', () => {
    expect(mayQueueBehind(worker('idle'), job(2000), depth, perItemMs)).toBe(false);
    expect(mayQueueBehind(loaded(2000), job(30_000), depth, perItemMs)).toBe(false); // 3 ms
    expect(mayQueueBehind(loaded(30_000), job(2000), depth, perItemMs)).toBe(false);
  });
});
