/**
 * workerpool's worker module, for its threads and its child processes alike: it registers its
 * tasks by name, and the pool calls them with `exec(name, args)`.
 */
import workerpool from 'workerpool';
import { echo } from './payload-task.mjs';
import { partialPi } from './pi-task.mjs';

function inc(x) {
  return x + 1;
}

/** `echo`, its answer handed back with its buffer transferred rather than copied (threads only). */
function echoMove(array) {
  const answer = echo(array);
  return new workerpool.Transfer(answer, [answer.buffer]);
}

workerpool.worker({ inc, partialPi, echo, echoMove });
