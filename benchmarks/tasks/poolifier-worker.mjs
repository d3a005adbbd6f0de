/**
 * poolifier's thread worker module: a ThreadWorker wrapping the tasks, as FixedThreadPool
 * requires. poolifier passes one value, so the pi range comes as `[first, last]`. Its workers
 * cannot transfer a result, so there is no `echoMove`.
 */
import { ThreadWorker } from 'poolifier';
import { echo } from './payload-task.mjs';
import { partialPi } from './pi-task.mjs';

export default new ThreadWorker({
  // The first entry is the default: what `execute(x)` runs without a name.
  inc: (x) => x + 1,
  pi: ([first, last]) => partialPi(first, last),
  echo,
});
