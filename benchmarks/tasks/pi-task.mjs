/**
 * The pi workload: the Leibniz series, pi = 4 * sum over k ≥ 1 of (-1)^(k+1) / (2k - 1), the same
 * series as examples/pi-task.mjs and python/mp_pool.py. One task sums the terms from `first` to
 * `last`, both included.
 */
export function partialPi(first, last) {
  let sum = 0;
  for (let k = first; k <= last; k++) {
    sum += (k % 2 === 1 ? 1 : -1) / (2 * k - 1);
  }
  return 4 * sum;
}
