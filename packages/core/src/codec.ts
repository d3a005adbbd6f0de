/**
 * Payload codecs: how the payloads of tasks and the results of chunks cross between the pool and
 * its workers. A backend chooses the codec its channel carries best (`Executor.codec`, and the
 * matching worker side as `WorkerChannel.codec`); the scheduler, maps and the worker's run loop
 * speak only of the codec, never of one way to write payloads.
 *
 *   pool    MapRun ─splitMap()─▶ chunk payloads ─▶ Batcher ─encode() each─▶ post() ─[RUN]──▶ send(message, transfer)
 *   worker  run loop ─runChunk(), or the task─▶ encodeResult() each ─▶ post() ─[RESULTS]──▶ post(message, transfer)
 *   pool    Scheduler ─readResults()─▶ the chunk's owner (a map, an imap)
 *
 * Two codecs: structured clone as it is (codecs/clone.ts, the default: a thread's port copies a
 * message in one go), and packed numbers (codecs/packed-numbers.ts and worker/codecs.ts, for a
 * channel that serializes, as the process backend's does: chunks of numbers travel as bytes).
 * A codec may keep memory from message to message: `post` is where it knows a message has gone.
 *
 * Moving buffers instead of copying them (`transfer(value, [buffers])` markers among a task's
 * arguments, a chunk's items or a task's results: transfer.ts) rides this seam: every codec
 * replaces the markers with their values when it encodes a payload (`encode`) or a result
 * (`encodeResult`), notes what they list (moves.ts), and `post` hands that over as the message's
 * transfer list (`WorkerHandle.send(message, transfer)`, `WorkerChannel.post(message, transfer)`).
 * A thread's port moves them; a process's channel copies them once, straight from their memory,
 * and detaches them on the sending side all the same (see the process backend's frames.ts). A
 * payload that moved memory cannot be sent again (`sendsOnce`): the scheduler's recovery fails
 * its job instead of running it again.
 */
import type { WorkerChannel, WorkerHandle } from './executor.js';
import type { Callable } from './worker/load-task.js';
import type { RunMode } from './wire.js';

/**
 * A chunk's results as its owner gets them: an array, or, where the codec carried them as
 * numbers, a Float64Array of them, which is valid only until the owner's call returns (it may
 * view memory that the next chunk reuses): copy what you keep.
 */
export type ChunkValues = readonly unknown[] | Float64Array;

/** A map's input as a codec made it ready, once, when the map was called (`PayloadCodec.splitMap`). */
export interface MapInput {
  /** The payload of the chunk of items from `start` to `end` (not included). */
  chunk(start: number, end: number): unknown;
  /** The map's function last returned numbers: the map may make its result array for numbers early. */
  readonly expectsNumbers: boolean;
  /**
   * Every chunk is done and none will be sent again (the map succeeded); `numbers`: every
   * chunk's results came as numbers. Not called for a map that failed: its chunks may still be
   * on their way.
   */
  done(numbers: boolean): void;
}

/** The pool's side of a payload codec; one per executor, and so per pool. */
export interface PayloadCodec {
  /** A whole map's items (copied when it was called), made ready once; its chunks are cut from it. */
  splitMap(fnId: number, mode: RunMode.Map | RunMode.Starmap, items: readonly unknown[], chunksize: number): MapInput;
  /**
   * What travels for `payload` (a task's arguments, or a chunk's items) in the message being
   * built, `transfer()` markers replaced by their values and what they list noted for `post`.
   * Throws (DataCloneError), noting nothing, when the payload cannot go: its job fails alone.
   */
  encode(mode: RunMode, payload: unknown): unknown;
  /**
   * Whether `payload`, once sent, cannot be sent again: it moved memory away from this side
   * (`transfer()`). The scheduler does not run such a job again after its worker died, nor on the
   * 'auto' context's fallback.
   */
  sendsOnce(mode: RunMode, payload: unknown): boolean;
  /**
   * Sends a message whose payloads were encoded since the last `post`, with what moves beside it
   * (their transfer list, which the next message does not inherit, sent or not). Throws as
   * `WorkerHandle.send` throws, sending nothing.
   */
  post(handle: WorkerHandle, message: unknown[]): void;
  /** A chunk's results as they came from a worker of this codec's backend. */
  readResults(value: unknown): ChunkValues;
}

/** The worker's side of a payload codec: one per worker. */
export interface WorkerPayloadCodec {
  /**
   * The channel lends the payloads of the messages it hands over: they are valid only until its
   * `onMessage` handler returns, and the run loop keeps (`keep`) those it reads later.
   */
  readonly lendsPayloads: boolean;
  /** `payload` in memory of its own, where the channel lends it; otherwise `payload` itself. */
  keep(payload: unknown): unknown;
  /**
   * Runs `fn` on each item of a chunk (`fn(item)` for a map, `fn(...args)` for a starmap), in
   * order, gathering the results in the form this codec sends best; a promise of them when an
   * item's result is a promise. A chunk that stops at an item throws the run loop's ChunkStop.
   */
  runChunk(fn: Callable, mode: RunMode.Map | RunMode.Starmap, payload: unknown): unknown;
  /**
   * What travels for a task's result, or a chunk's results, in the message being built,
   * `transfer()` markers replaced by their values and what they list noted for `post`. Throws
   * (DataCloneError), noting nothing, when a result cannot go: its task fails with that error.
   */
  encodeResult(mode: RunMode, value: unknown): unknown;
  /**
   * What travels for the results of a chunk's items before the one that failed: an array, markers
   * replaced; never throws (what cannot move is copied: the chunk's own error is what matters).
   */
  encodeBefore(before: unknown[]): unknown[];
  /**
   * Posts a message whose results were encoded since the last `post`, with what moves beside it
   * (a transfer list the next message does not inherit); throws as `WorkerChannel.post` does.
   */
  post(channel: WorkerChannel, message: unknown[]): void;
}
