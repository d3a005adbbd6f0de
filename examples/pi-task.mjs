/**
 * The article's series for pi (Leibniz): pi = 4 * sum over k ≥ 1 of (-1)^(k+1) / (2k - 1).
 * One task sums the terms from `first` to `last`, both included.
 */
import { threadId } from 'node:worker_threads';

export function partialPi(first, last) {
  let sum = 0;
  for (let k = first; k <= last; k++) {
    sum += (k % 2 === 1 ? 1 : -1) / (2 * k - 1);
  }
  return 4 * sum;
}

/** Which worker this is, after keeping it busy for `ms`, so that every worker of a pool gets a turn. */
export function workerTag(ms) {
  const end = Date.now() + ms;
  while (Date.now() < end);
  return `${process.pid}:${threadId}`;
}
