/** Tasks of manager.mjs. */

/**
 * Awaits `value.get()` `calls` times, one after another, and returns the time that took in
 * microseconds per call, measured here in the worker: a proxied call's full round trip, from the
 * worker to the parent's object and back.
 */
export async function timeProxiedGets(value, calls) {
  const started = performance.now();
  for (let i = 0; i < calls; i++) await value.get();
  return ((performance.now() - started) * 1000) / calls;
}

/** Does nothing: what remains of a task is the pool's round trip. */
export function noop() {}
