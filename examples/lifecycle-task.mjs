/**
 * Tasks for lifecycle.mjs. Module state lives once per worker: the initializer and the tasks
 * are loaded from this same file, so they share it.
 */
import { threadId } from 'node:worker_threads';

let greeting = '(no initializer ran)';
let initializerRuns = 0;
let tasksRun = 0;

/** The pool's initializer: runs once in each worker, replacements included, before any task. */
export function setUp(greetingArg) {
  greeting = greetingArg;
  initializerRuns += 1;
}

/** Says which worker ran item `item`, and what that worker has done so far. */
export function whoAmI(item) {
  tasksRun += 1;
  // A thread has its own threadId in a shared pid; a process has its own pid and threadId 0.
  return { item, worker: `${process.pid}:${threadId}`, greeting, initializerRuns, tasksRun };
}

/** Returns `x` after holding its worker for `ms` milliseconds: work that is still going on. */
export function slowEcho(x, ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return x;
}
