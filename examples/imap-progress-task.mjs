/**
 * The task of imap-progress.mjs: count the primes in one range of numbers.
 */

/**
 * Counts the primes p with `from` ≤ p < `to`, by sieving that segment with the numbers up to
 * √(to - 1): each range costs about its length, wherever it lies.
 */
export function countPrimes([from, to]) {
  const composite = new Uint8Array(to - from);
  const limit = Math.floor(Math.sqrt(to - 1));
  for (let p = 2; p <= limit; p++) {
    // Multiples of a composite p were crossed out by its prime factors already, but telling
    // primes from composites below √to costs a second sieve; crossing out again is cheaper.
    const firstMultiple = Math.max(p * p, Math.ceil(from / p) * p);
    for (let m = firstMultiple; m < to; m += p) composite[m - from] = 1;
  }
  let count = 0;
  for (let n = Math.max(from, 2); n < to; n++) {
    if (composite[n - from] === 0) count++;
  }
  return { from, to, count };
}
