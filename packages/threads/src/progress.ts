/**
 * A worker thread's last word: two integers in memory the thread shares with the thread that
 * started it, which its run loop writes as each task starts and ends, and which outlive the
 * thread however it ends (`process.exit()`, an uncaught error, running out of memory,
 * `terminate()`), for its executor to read once it has.
 *
 *   run loop ─taskStarted() / taskEnded()─▶ [started, running] ─'exit'─▶ WorkerExitInfo.lastWord
 */
import type { TaskProgress, WorkerLastWord } from '@mpool/core';

/** Where each count sits. */
const STARTED = 0;
const RUNNING = 1;
/** The cells: tasks started, and whether the last one still runs (1) or not (0). */
const CELLS = 2;

/** The shared memory of one worker's last word, made by its executor and read once it has exited. */
export function progressCells(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(CELLS * Int32Array.BYTES_PER_ELEMENT));
}

/** The worker's side: its run loop counts into `cells`. */
export function progressWriter(cells: Int32Array): TaskProgress {
  // The thread writes alone; Atomics only so that what it wrote is what the other thread reads,
  // however the thread was stopped.
  let started = 0;
  return {
    taskStarted: () => {
      Atomics.store(cells, STARTED, ++started);
      Atomics.store(cells, RUNNING, 1);
    },
    taskEnded: () => {
      Atomics.store(cells, RUNNING, 0);
    },
  };
}

/** The executor's side, once the worker has exited: how far it had got. */
export function readLastWord(cells: Int32Array): WorkerLastWord {
  return { started: Atomics.load(cells, STARTED), running: Atomics.load(cells, RUNNING) === 1 };
}
