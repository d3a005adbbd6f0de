/** The job queue alone: queued weight, pending jobs and every job's state, through its own calls. */
import { Job, JobState, type JobOwner } from '../src/job.js';
import { JobQueue } from '../src/scheduler/job-queue.js';
import { StatsCollector } from '../src/stats.js';
import type { FnEntry } from '../src/task.js';
import { RunMode } from '../src/wire.js';

const FN: FnEntry = { id: 0, spec: { kind: 'source', source: '(x) => x', label: 'x' } };
const NO_LIMITS = { timeoutMs: Infinity, signal: undefined };

/** An owner that writes down what it is told. */
class Recorder implements JobOwner<string> {
  readonly told: string[] = [];
  jobSucceeded(job: Job<string>, value: unknown): void {
    this.told.push(`${job.mark} ok ${String(value)}`);
  }
  jobFailed(job: Job<string>, error: unknown): void {
    this.told.push(`${job.mark} failed ${(error as Error).message}`);
  }
}

function setUp(): { queue: JobQueue; stats: StatsCollector; owner: Recorder; idle: () => number; make: (mark: string, weight?: number) => Job<string> } {
  let idleCalls = 0;
  const stats = new StatsCollector();
  const queue = new JobQueue(stats, () => idleCalls++);
  const owner = new Recorder();
  const make = (mark: string, weight = 1): Job<string> => new Job(FN, RunMode.Map, [mark], weight, owner, mark, NO_LIMITS);
  return { queue, stats, owner, idle: () => idleCalls, make };
}

test('a pushed job is queued and pending; taking it moves its weight from the queue to the running', () => {
  const { queue, make } = setUp();
  const a = make('a', 3);
  const b = make('b', 4);
  queue.push(a);
  queue.push(b);
  expect([queue.length, queue.weight, queue.pending]).toEqual([2, 7, 2]);
  expect(queue.next()).toBe(a);
  expect(queue.take()).toBe(a);
  expect(a.state).toBe(JobState.Running);
  expect([queue.length, queue.weight, queue.pending]).toEqual([1, 4, 2]);
});

test('a job answered is done, its payload let go, and its owner is to be told', () => {
  const { queue, make, idle } = setUp();
  const a = make('a');
  queue.push(a);
  queue.next();
  queue.take();
  expect(queue.complete(a)).toBe(true);
  expect(a.state).toBe(JobState.Done);
  expect(a.payload).toBeUndefined();
  expect(queue.pending).toBe(0);
  expect(idle()).toBe(1);
});

test('a queued job withdrawn is done at once, its weight gone, and the sender skips it', () => {
  const { queue, make, owner, idle } = setUp();
  const [a, b] = [make('a', 2), make('b', 5)];
  queue.push(a);
  queue.push(b);
  queue.withdraw(a);
  expect(a.state).toBe(JobState.Done);
  expect([queue.weight, queue.pending]).toEqual([5, 1]);
  expect(queue.peek()).toBe(a); // still in the queue, as it is
  expect(queue.next()).toBe(b); // but never sent
  expect(queue.length).toBe(1);
  expect(owner.told).toEqual([]); // its owner settles it itself
  expect(idle()).toBe(0);
});

test('a running job withdrawn stays pending until its result comes, which nobody is told of', () => {
  const { queue, make, owner, idle } = setUp();
  const a = make('a');
  queue.push(a);
  queue.next();
  queue.take();
  queue.withdraw(a);
  expect(a.state).toBe(JobState.Cancelled);
  expect(queue.pending).toBe(1);
  expect(queue.complete(a)).toBe(false);
  queue.fail(a, new Error('late'));
  expect(owner.told).toEqual([]);
  expect([queue.pending, idle()]).toEqual([0, 1]);
});

test('a failed job tells its owner once; a job done already is left as it is', () => {
  const { queue, make, owner } = setUp();
  const a = make('a');
  queue.push(a);
  queue.fail(a, new Error('boom'));
  queue.fail(a, new Error('again'));
  expect(owner.told).toEqual(['a failed boom']);
  expect([queue.weight, queue.pending]).toEqual([0, 0]);
});

test('jobs taken back go to the front of the queue in their order, their clocks stopped', () => {
  jest.useFakeTimers();
  try {
    const { queue, make } = setUp();
    const jobs = ['a', 'b', 'c'].map((mark) => make(mark, 2));
    for (const job of jobs) queue.push(job);
    queue.next();
    const a = queue.take();
    queue.next();
    const b = queue.take();
    const fired = jest.fn();
    a.timer = setTimeout(fired, 10);
    queue.requeue([a, b]);
    jest.advanceTimersByTime(100);
    expect(fired).not.toHaveBeenCalled();
    expect(a.timer).toBeUndefined();
    expect([a.state, b.state]).toEqual([JobState.Queued, JobState.Queued]);
    expect(queue.weight).toBe(6);
    expect(queue.drain().map((job) => job.mark)).toEqual(['a', 'b', 'c']);
  } finally {
    jest.useRealTimers();
  }
});

test('draining takes every job off the queue and returns those still to run', () => {
  const { queue, make } = setUp();
  const [a, b, c] = [make('a'), make('b'), make('c')];
  for (const job of [a, b, c]) queue.push(job);
  queue.withdraw(b);
  expect(queue.drain()).toEqual([a, c]);
  expect(queue.length).toBe(0);
  expect(queue.pending).toBe(2); // drained, not ended: the caller fails them
});

test('the owner is told when the last pending job ends, and each time the queue empties again', () => {
  const { queue, make, idle } = setUp();
  const [a, b] = [make('a'), make('b')];
  queue.push(a);
  queue.push(b);
  queue.fail(a, new Error('x'));
  expect(idle()).toBe(0);
  queue.withdraw(b);
  expect(idle()).toBe(1);
  const c = make('c');
  queue.push(c);
  queue.fail(c, new Error('y'));
  expect(idle()).toBe(2);
});

describe('wait times', () => {
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  test("a job's wait runs from its push to its first take, whatever was withdrawn before it; sent again, it is not timed again", () => {
    const { queue, stats, make } = setUp();
    const withdrawn = make('withdrawn');
    queue.push(withdrawn);
    queue.withdraw(withdrawn);
    jest.advanceTimersByTime(50);
    const job = make('job');
    queue.push(job);
    jest.advanceTimersByTime(100);
    expect(queue.next()).toBe(job);
    queue.take();
    queue.requeue([job]);
    jest.advanceTimersByTime(1000);
    expect(queue.next()).toBe(job);
    queue.take();
    const { waitTime } = stats.snapshot([], queue.queued, queue.pending);
    // (The histogram keeps three significant digits.)
    expect(waitTime.p50).toBeCloseTo(100, 0);
    expect(waitTime.max).toBeCloseTo(100, 0);
  });
});
