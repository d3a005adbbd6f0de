/**
 * The default payload codec, on the pool's side: payloads and results travel as they are, and the
 * channel's structured clone copies them (a thread's port copies a message in one go, arrays of
 * numbers included), but for the buffers `transfer()` moves (moves.ts). See worker/codecs.ts for
 * the worker's side.
 */
import type { ChunkValues, MapInput, PayloadCodec } from '../codec.js';
import type { WorkerHandle } from '../executor.js';
import { holdsTransfer, Moves } from '../moves.js';
import type { RunMode } from '../wire.js';

/** A map's chunks as slices of its items. */
export class SlicedInput implements MapInput {
  readonly #items: readonly unknown[];
  readonly expectsNumbers: boolean = false;

  constructor(items: readonly unknown[]) {
    this.#items = items;
  }

  chunk(start: number, end: number): unknown {
    return this.#items.slice(start, end);
  }

  done(_numbers: boolean): void {}
}

export class CloneCodec implements PayloadCodec {
  /** What moves with the message being built (its encodes and its post come in one synchronous go). */
  readonly #moves = new Moves();

  splitMap(_fnId: number, _mode: unknown, items: readonly unknown[]): MapInput {
    return new SlicedInput(items);
  }

  encode(mode: RunMode, payload: unknown): unknown {
    return this.#moves.payload(mode, payload);
  }

  sendsOnce(mode: RunMode, payload: unknown): boolean {
    return holdsTransfer(mode, payload);
  }

  post(handle: WorkerHandle, message: unknown[]): void {
    handle.send(message, this.#moves.take());
  }

  readResults(value: unknown): ChunkValues {
    return value as ChunkValues;
  }
}

/**
 * The codec of a backend that names none. What it keeps lasts from a message's first encode to its
 * post, which come in one synchronous go: every pool may share it.
 */
export const CLONE_CODEC: PayloadCodec = new CloneCodec();
