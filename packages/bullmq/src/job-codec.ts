/**
 * What a BullMQ job of mpool carries, both ways. BullMQ stores a job's data and its return value
 * as JSON, which would lose what a pool carries on one machine (Map, Set, Date, BigInt, typed
 * arrays, -0, undefined): tasks and results travel inside it as the bytes of Node's structured
 * serialisation (`v8.serialize`), in base64.
 *
 *   data         { v, pool, setupKey, setup, tasks }
 *     setup      [initializer | undefined, initargs, maxTasksPerChild | null, workerData]: the pool's, the same in every job
 *     tasks      [spec, mode, payload, spec, mode, payload, …]: one RUN message of the pool's lanes
 *   returnvalue  [busyMs, status, value, status, value, …]: as a worker's RESULTS message
 */
import { createHash } from 'node:crypto';
import { DefaultDeserializer, serialize } from 'node:v8';
import type { FnSpec } from '@mpool/core';

/** The layout of a job's data and return value; a worker refuses jobs of another. */
export const JOB_FORMAT = 1;

/** A job's data, as BullMQ stores it. */
export interface JobData {
  readonly v: number;
  /** The pool that sent it, for messages. */
  readonly pool: string;
  /** Names `setup`: workers keep one local pool per setup. */
  readonly setupKey: string;
  readonly setup: string;
  readonly tasks: string;
}

/**
 * What every worker needs of the pool before its first task. `workerData` came later than the
 * rest: a worker that reads three elements ignores it, and one that reads a setup of three gets
 * `undefined`, which is what a pool without it gives.
 */
export type Setup = readonly [initializer: FnSpec | undefined, initargs: readonly unknown[], maxTasksPerChild: number | null, workerData: unknown];

/** `value` as base64 of its structured serialisation; throws a DataCloneError for what cannot be copied. */
export function pack(value: unknown): string {
  return serialize(value).toString('base64');
}

/**
 * Node's deserializer, but every typed array, Buffer and DataView it gives has a buffer of its own
 * (Node's own makes them views of the bytes being read): a task that hands back what it was
 * given with `transfer(view, [view.buffer])` then moves that view's bytes, not the whole job's,
 * and the items of a chunk do not share one buffer.
 */
class OwnViews extends DefaultDeserializer {
  _readHostObject(): ArrayBufferView {
    const view = (DefaultDeserializer.prototype as unknown as { _readHostObject(this: DefaultDeserializer): ArrayBufferView })._readHostObject.call(this);
    const bytes = new Uint8Array(view.byteLength);
    bytes.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
    const Kind = view.constructor as new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView;
    return new Kind(bytes.buffer, 0, view.byteLength / ((view as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1));
  }
}

export function unpack(text: string): unknown {
  const deserializer = new OwnViews(Buffer.from(text, 'base64'));
  deserializer.readHeader();
  return deserializer.readValue();
}

/** A short, stable name for a setup's packed bytes. */
export function setupKeyOf(packedSetup: string): string {
  return createHash('sha256').update(packedSetup).digest('base64url');
}

/** Whether `data` is a job of this layout. */
export function isJobData(data: unknown): data is JobData {
  if (typeof data !== 'object' || data === null) return false;
  const job = data as Record<string, unknown>;
  return job.v === JOB_FORMAT && typeof job.pool === 'string' && typeof job.setupKey === 'string'
    && typeof job.setup === 'string' && typeof job.tasks === 'string';
}
