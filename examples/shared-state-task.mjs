/**
 * Tasks for shared-state.mjs. Each gets proxies to objects that live in the parent: every call on
 * them is a message to the parent and back, so every call is awaited.
 */

/** Adds one to `counter` `times` times; a read then a write, so each pair runs under `lock`. */
export async function addUnderLock(counter, lock, times) {
  for (let i = 0; i < times; i++) {
    const held = await lock.acquire();
    try {
      await counter.set((await counter.get()) + 1);
    } finally {
      await held.release();
    }
  }
}

/** Appends `item` to the shared list. */
export async function record(list, item) {
  await list.append(item);
}

/** Squares what comes on `jobs` and puts it on `results`, until a `null` comes; says how many it did. */
export async function squareJobs(jobs, results) {
  let done = 0;
  for (let x = await jobs.get(); x !== null; x = await jobs.get()) {
    await results.put(x * x);
    done++;
  }
  return done;
}
