/**
 * A worker process's last word: how far it had got with its tasks, written on its way out, in the
 * 'exit' event Node runs on `process.exit()` and after an uncaught exception (not on SIGKILL, a
 * signal's default action, nor a V8 abort: those leave no word, and the pool does without).
 *
 *   run loop ─taskStarted() / taskEnded()─▶ LastWord ─'exit': tell()─▶ [LAST_WORD, started, running]
 *     ─▶ the socket, a final frame written at once ─▶ the pool reads it before it reports the exit
 *
 * Nothing asynchronous runs in 'exit', so the frame is written with a plain write to the socket's
 * fd. That is sound only while the socket holds nothing unwritten (the frame would land inside
 * another); and the fd, which Node made non-blocking, refuses a write when its buffer is full.
 * Either way the worker leaves no word rather than a wrong one.
 */
import { writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { TaskProgress, WorkerLastWord } from '@mpool/core';
import { encodeFrame } from './frames.js';
import { LAST_WORD_MESSAGE } from './messages.js';

/** The worker's side: its run loop counts here, and its 'exit' listener calls `tell()`. */
export class LastWord implements TaskProgress {
  #started = 0;
  #running = false;

  taskStarted(): void {
    this.#started++;
    this.#running = true;
  }

  taskEnded(): void {
    this.#running = false;
  }

  /** Writes the last word to `socket` now, if it can be written whole and in its place. */
  tell(socket: Socket): void {
    if (socket.destroyed || !socket.writable || socket.writableLength > 0) return;
    const fd = (socket as unknown as { _handle?: { fd?: number } | null })._handle?.fd;
    if (fd === undefined || fd < 0) return; // a named pipe on Windows has no fd
    const { head } = encodeFrame([LAST_WORD_MESSAGE, this.#started, this.#running]);
    try {
      // A few dozen bytes: written whole, or refused whole when the buffer is full (were it cut
      // short, the pool would hold an unfinished frame when the socket ends, and drop it).
      writeSync(fd, head);
    } catch {
      // refused, or the pool is gone: no word
    }
  }
}

/** The pool's side: the word in a LAST_WORD message. */
export function readLastWord(message: readonly unknown[]): WorkerLastWord {
  return { started: message[1] as number, running: message[2] === true };
}
