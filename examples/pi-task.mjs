/**
 * The article's series for pi (Leibniz): pi = 4 * sum over k ≥ 1 of (-1)^(k+1) / (2k - 1).
 * One task sums the terms from `first` to `last`, both included.
 */
export function partialPi(first, last) {
  let sum = 0;
  for (let k = first; k <= last; k++) {
    sum += (k % 2 === 1 ? 1 : -1) / (2 * k - 1);
  }
  return 4 * sum;
}
