/** poolifier's worker module: the worker is a ThreadWorker wrapping the task, as poolifier requires. */
import { ThreadWorker } from 'poolifier';

function inc(x) {
  return x + 1;
}

export default new ThreadWorker(inc);
