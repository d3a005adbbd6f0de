/** The tasks mpool's workers run (mpool takes any export of a module by name). */
export { partialPi } from './pi-task.mjs';
export { echo } from './payload-task.mjs';

/** A number in, that number plus one out: a task that costs next to nothing. */
export function inc(x) {
  return x + 1;
}
