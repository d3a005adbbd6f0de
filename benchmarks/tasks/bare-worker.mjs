/**
 * The floor under the payload benchmark: a worker thread that answers each message with the array
 * it was given (tasks/payload-task.mjs), moved back when it was moved here, and nothing else: no
 * pool, no protocol, no error handling. Messages are `[id, array, moved]`.
 */
import { parentPort } from 'node:worker_threads';
import { echo } from './payload-task.mjs';

parentPort.on('message', ([id, array, moved]) => {
  const answer = echo(array);
  parentPort.postMessage([id, answer], moved ? [answer.buffer] : []);
});
