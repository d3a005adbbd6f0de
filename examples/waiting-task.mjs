/**
 * Tasks for waiting.mjs.
 */

/**
 * Squares `x` after holding its worker for `ms` milliseconds: a stand-in for a computation whose
 * length is known, so that a timeout shorter than it is sure to fire.
 */
export function slowSquare(x, ms) {
  // Atomics.wait blocks this worker (thread or process) without spinning a CPU; nothing ever
  // notifies the cell, so it returns after `ms`.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return x * x;
}

/** A task that checks its input and fails as a library would: a RangeError with a `code`. */
export function checkedSqrt(x) {
  if (x < 0) {
    throw Object.assign(new RangeError(`Cannot take the square root of ${x}`), { code: 'ERR_NEGATIVE_INPUT' });
  }
  return Math.sqrt(x);
}
