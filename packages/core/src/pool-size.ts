/**
 * How many workers a pool may have, and how many of them start when it is made: a pool no bigger
 * than the machine starts them all at once, so that its first tasks do not wait for a boot; a
 * bigger one starts the rest as its work needs them (see Scheduler's fill).
 */
import { availableParallelism } from 'node:os';
import { checkPositiveInteger } from './validate.js';

/**
 * The most workers a pool may have. Above the hardware threads of the largest machines (two
 * 192-core sockets offer 768), so that a pool of CPU-bound work never needs more; each worker is
 * a thread or a process with a heap of its own (measured on 2 cores: 64 thread workers took 530 ms
 * of the caller's time to start, and the program grew by 290 MB), so that a size far beyond it,
 * all started, would take the program down.
 */
export const MAX_PROCESSES = 1024;

/**
 * Pools up to this size start all their workers at once even on a machine with fewer CPUs
 * (measured on 2 cores: 16 thread workers in 34 ms of the caller's time, 64 in 530 ms).
 */
const START_AT_ONCE_MIN = 16;

/** The default size: one worker per CPU (within MAX_PROCESSES). */
export function defaultPoolSize(): number {
  return Math.min(availableParallelism(), MAX_PROCESSES);
}

/** Checks `processes`: an integer from 1 to MAX_PROCESSES. */
export function checkPoolSize(value: unknown): asserts value is number {
  checkPositiveInteger(value, 'processes');
  if (value > MAX_PROCESSES) {
    throw new RangeError(`Expected \`processes\` to be an integer from 1 to ${MAX_PROCESSES} (mpool's limit), got \`${value}\``);
  }
}

/**
 * How many of a pool's `size` workers start when it is made: all of them up to one per CPU (and
 * at least START_AT_ONCE_MIN); the others start when there is more work than workers.
 */
export function workersAtStart(size: number): number {
  return Math.min(size, Math.max(availableParallelism(), START_AT_ONCE_MIN));
}
