/** The tasks mpool's workers run (mpool takes any export of a module by name). */
import { transfer } from '@mpool/pool/transfer';
import { echo } from './payload-task.mjs';

export { partialPi } from './pi-task.mjs';
export { echo };

/** A number in, that number plus one out: a task that costs next to nothing. */
export function inc(x) {
  return x + 1;
}

/** `echo`, its answer handed back with its buffer moved rather than copied. */
export function echoMove(array) {
  return transfer(echo(array), [array.buffer]);
}
