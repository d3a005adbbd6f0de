/** The task mpool's workers run: a number in, that number plus one out. */
export function inc(x) {
  return x + 1;
}
