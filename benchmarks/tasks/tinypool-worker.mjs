/**
 * tinypool's worker module, for its threads and its child processes alike: the default export is
 * the task `run(x)` calls; the others are picked with `run(x, { name })`. tinypool passes one
 * value, so the pi range comes as `[first, last]`.
 */
import { Tinypool } from 'tinypool';
import { echo } from './payload-task.mjs';
import { partialPi } from './pi-task.mjs';

export default function inc(x) {
  return x + 1;
}

export function pi([first, last]) {
  return partialPi(first, last);
}

export { echo };

/** `echo`, its answer handed back with its buffer transferred rather than copied (threads only). */
export function echoMove(array) {
  return Tinypool.move(echo(array));
}
