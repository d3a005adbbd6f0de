/**
 * The worker side of every backend: load functions once, run what the pool sends, in order, one
 * at a time, and send the results back in batches.
 *
 *   [RUN …] ──▶ inbox (one entry per message) ──▶ drain(): run each task ──▶ outbox ──▶ [RESULTS …]
 *
 * The outbox is flushed at the end of each message the pool sent (the pool sizes its messages for
 * that) and, inside a long message, every FLUSH_INTERVAL_MS, so that results of quick tasks travel
 * together without a slow one holding the earlier ones back.
 */
import { performance } from 'node:perf_hooks';
import { encodeThrown, safeMessage } from '../error-codec.js';
import type { WorkerChannel } from '../executor.js';
import { MessageKind, ResultStatus, RunMode, type FnDef, type FnSpec, type WorkerInit } from '../wire.js';
import { isPackedNumbers, NumberArena, PACK_MIN_LENGTH, packedBytes, packedView } from '../numbers.js';
import { explainThrown, loadFunction, type Callable } from './load-task.js';
import { RemoteHub } from './remote-hub.js';

/** A result waits at most this long for companions before it is sent. */
const FLUSH_INTERVAL_MS = 2;

/** A chunk that stopped at item `index`; thrown inside the loop, sent as a ChunkFailure. */
class ChunkStop {
  constructor(readonly index: number, readonly before: unknown[], readonly thrown: unknown) {}
}

/**
 * Whether a caught value is the loop's own ChunkStop. Guarded: `instanceof` on a thrown Proxy
 * runs its traps, which may throw.
 */
function isChunkStop(value: unknown): value is ChunkStop {
  try {
    return value instanceof ChunkStop;
  } catch {
    return false;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null
    && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** Finishes a chunk whose item `i` returned a promise: the rest run one after another. */
async function finishChunk(fn: Callable, mode: RunMode, items: ArrayLike<unknown>, results: unknown[], i: number, pending: PromiseLike<unknown>): Promise<unknown[]> {
  for (;;) {
    try {
      results.push(await pending);
    } catch (thrown) {
      throw new ChunkStop(i, results, thrown);
    }
    if (++i === items.length) return results;
    try {
      const value = mode === RunMode.Map ? fn(items[i]) : fn(...(items[i] as unknown[]));
      pending = isThenable(value) ? value : Promise.resolve(value);
    } catch (thrown) {
      throw new ChunkStop(i, results, thrown);
    }
  }
}

/** A task's payload with its shared-object handles turned into proxies (see shared.ts). */
function takeShared(hub: RemoteHub, mode: RunMode, payload: unknown, taken: number[]): unknown {
  if (mode === RunMode.Starmap) {
    const items = payload as unknown[][];
    let out: unknown[] | undefined;
    for (let i = 0; i < items.length; i++) {
      const args = hub.take(items[i], taken);
      if (args !== items[i]) (out ??= items.slice())[i] = args;
    }
    return out ?? items;
  }
  // A packed chunk of numbers (see numbers.ts) holds no handles.
  if (isPackedNumbers(payload)) return payload;
  return hub.take(payload as unknown[], taken);
}

/**
 * Runs one task; returns its value, or a promise of it when the function is async. With `arena`
 * (the channel takes packed numbers), a map chunk's results go straight into it.
 */
function runTask(fn: Callable, mode: RunMode, payload: unknown, arena: NumberArena | undefined): unknown {
  if (mode === RunMode.Apply) return fn(...(payload as unknown[]));
  // Packed numbers are read in place, or from scratch space the next packed chunk reuses: the
  // tasks of one chunk are done before the next chunk starts.
  const items = (isPackedNumbers(payload) ? packedView(payload) : payload) as ArrayLike<unknown>;
  if (arena !== undefined && mode === RunMode.Map && items.length >= PACK_MIN_LENGTH) return runIntoNumbers(fn, items, arena);
  return runFrom(fn, mode, items, [], 0);
}

/** Runs items `i` on of a chunk, after `results` (those before `i`). */
function runFrom(fn: Callable, mode: RunMode, items: ArrayLike<unknown>, results: unknown[], i: number): unknown {
  // Filled by push, never preallocated: a holey array would cross to the pool as a sparse one,
  // key by key, which V8's serializer writes and reads several times slower than a packed array.
  for (; i < items.length; i++) {
    let value: unknown;
    try {
      value = mode === RunMode.Map ? fn(items[i]) : fn(...(items[i] as unknown[]));
    } catch (thrown) {
      throw new ChunkStop(i, results, thrown);
    }
    if (isThenable(value)) return finishChunk(fn, mode, ownItems(items), results, i, value);
    results.push(value);
  }
  return results;
}

/**
 * Items a chunk goes on reading after it has waited: packed numbers are copied, since the memory
 * they were read from may be reused by then (scratch space, or the channel's).
 */
function ownItems(items: ArrayLike<unknown>): ArrayLike<unknown> {
  return items instanceof Float64Array ? items.slice() : items;
}

/** The packed chunks of `batch`'s tasks from `cursor` on, copied out of memory the channel reuses. */
function ownPayloads(batch: unknown[], cursor: number): void {
  for (let i = cursor + 2; i < batch.length; i += 3) batch[i] = ownPayload(batch[i]);
}

/**
 * A copy of `payload` when it is a packed chunk. Not `slice()`: the chunk may be a Buffer (a
 * socket's), whose `slice` is a view of the same memory.
 */
function ownPayload(payload: unknown): unknown {
  return isPackedNumbers(payload) ? new Uint8Array(payload) : payload;
}

/**
 * A map chunk whose results travel packed: each number is written into the arena as it comes,
 * and the chunk's results are the packed bytes. No array grows item by item: after a worker has
 * sat idle for some seconds, such arrays land on fresh pages, each a page fault (see
 * benchmarks/README.md, "Measurements behind the code"). The first result that is not a number
 * turns the chunk back into an array of what came before.
 */
function runIntoNumbers(fn: Callable, items: ArrayLike<unknown>, arena: NumberArena): unknown {
  const out = arena.reserve(items.length);
  for (let i = 0; i < items.length; i++) {
    let value: unknown;
    try {
      value = fn(items[i]);
    } catch (thrown) {
      throw new ChunkStop(i, numbersBefore(out, i), thrown);
    }
    if (typeof value === 'number') {
      out[i] = value;
      continue;
    }
    const results = numbersBefore(out, i);
    if (isThenable(value)) return finishChunk(fn, RunMode.Map, ownItems(items), results, i, value);
    results.push(value);
    return runFrom(fn, RunMode.Map, items, results, i + 1);
  }
  return packedBytes(out);
}

/** The first `n` numbers of `out`, as an array. */
function numbersBefore(out: Float64Array, n: number): unknown[] {
  const results: unknown[] = [];
  for (let i = 0; i < n; i++) results.push(out[i]);
  return results;
}

/**
 * Runs the worker: the initializer first, then `[READY]`, then tasks until `[STOP]`.
 * Each backend's worker entry calls this with its channel and the init data it was started with.
 */
export function runWorker(channel: WorkerChannel, init: WorkerInit): void {
  const specs = new Map<number, FnSpec>();
  const functions = new Map<number, Callable>();
  const inbox: unknown[][] = [];
  let message: unknown[] | undefined;
  let cursor = 0;
  let outbox: unknown[] = [MessageKind.Results, 0];
  let busyMs = 0;
  let lastFlush = 0;
  let flushTimer: NodeJS.Timeout | undefined;
  let draining = false;
  let stopping = false;
  const hub = new RemoteHub((id, data) => channel.post([MessageKind.Rpc, id, data]));
  /** Scratch space for packed results, free again once the batch holding them is sent. */
  const arena = channel.packsNumbers === true ? new NumberArena() : undefined;
  /** Packed chunks are views of the channel's memory until onMessage returns (see beforeWait). */
  const transient = channel.transientPayloads === true;
  /** The message whose remaining packed chunks beforeWait has copied already. */
  let owned: unknown[] | undefined;
  /** Shared-object ids the running task took; reused, as tasks run one at a time. */
  const taken: number[] = [];

  const flush = (): void => {
    if (flushTimer !== undefined) {
      clearTimeout(flushTimer);
      flushTimer = undefined;
    }
    lastFlush = performance.now();
    if (outbox.length === 2) return;
    const batch = outbox;
    batch[1] = busyMs;
    outbox = [MessageKind.Results, 0];
    busyMs = 0;
    let written: boolean | void = true;
    try {
      written = channel.post(batch);
    } catch {
      written = postOneByOne(batch);
    } finally {
      // Packed results still waiting to be written keep their space; the next batch takes new.
      if (written === false) arena?.abandon();
      else arena?.reset();
    }
  };

  /**
   * A batch failed to copy: send its results one by one, replacing the ones that cannot go.
   * Returns false when some of them are not written out yet (as `WorkerChannel.post`).
   */
  const postOneByOne = (batch: unknown[]): boolean => {
    let written = true;
    for (let i = 2; i < batch.length; i += 2) {
      try {
        written = channel.post([MessageKind.Results, 0, batch[i], batch[i + 1]]) !== false && written;
      } catch (error) {
        // What failed may be a result's own getter, and what it threw anything at all.
        const reason = safeMessage(error);
        written = channel.post([MessageKind.Results, 0, ResultStatus.Uncloneable, reason]) !== false && written;
      }
    }
    return written;
  };

  const nextTask = (): boolean => {
    while (message === undefined || cursor >= message.length) {
      if (message !== undefined) flush(); // the end of one message from the pool: answer it
      message = inbox.shift();
      if (message === undefined) return false;
      cursor = 2;
    }
    return true;
  };

  /**
   * The run loop is about to wait: where the channel reuses its memory, what the current message
   * still holds (and `payload`, its task's) is copied out first. Messages that come while it
   * waits are copied as they come (onMessage).
   */
  const beforeWait = (payload: unknown): unknown => {
    if (!transient) return payload;
    if (message !== undefined && owned !== message) {
      ownPayloads(message, cursor);
      owned = message;
    }
    return ownPayload(payload);
  };

  const drain = async (): Promise<void> => {
    draining = true;
    while (nextTask()) {
      const batch = message as unknown[];
      const fnId = batch[cursor] as number;
      const mode = batch[cursor + 1] as RunMode;
      let payload = batch[cursor + 2];
      batch[cursor + 2] = undefined; // let the arguments go as soon as the task has them
      cursor += 3;
      let fn = functions.get(fnId);
      if (fn === undefined) {
        flush(); // loading may take a while: what is done goes first
        payload = beforeWait(payload);
        try {
          const spec = specs.get(fnId);
          if (spec === undefined) throw new Error(`mpool protocol error: function ${fnId} was never defined`);
          fn = await loadFunction(spec);
          functions.set(fnId, fn);
        } catch (thrown) {
          outbox.push(ResultStatus.Threw, encodeThrown(thrown));
          continue;
        }
      }
      const started = performance.now();
      hub.beginTask();
      try {
        let value = runTask(fn, mode, takeShared(hub, mode, payload, taken), arena);
        if (isThenable(value)) {
          if (outbox.length > 2 && flushTimer === undefined) flushTimer = setTimeout(flush, FLUSH_INTERVAL_MS);
          beforeWait(undefined);
          value = await value;
        }
        // A chunk's results of numbers go packed where the channel takes that (see numbers.ts);
        // a map's may be packed already (runIntoNumbers).
        if (arena !== undefined && mode !== RunMode.Apply && !isPackedNumbers(value)) value = arena.pack(value as unknown[]) ?? value;
        outbox.push(ResultStatus.Ok, value);
      } catch (thrown) {
        if (isChunkStop(thrown)) {
          outbox.push(ResultStatus.ChunkThrew, [thrown.index, thrown.before, encodeThrown(explainThrown(specs.get(fnId), thrown.thrown))]);
        } else {
          outbox.push(ResultStatus.Threw, encodeThrown(explainThrown(specs.get(fnId), thrown)));
        }
      }
      hub.endTask(taken);
      const now = performance.now();
      busyMs += now - started;
      if (now - lastFlush >= FLUSH_INTERVAL_MS) flush();
    }
    draining = false;
    if (stopping) channel.close();
  };

  const onMessage = (data: unknown): void => {
    if (!Array.isArray(data)) return;
    if (data[0] === MessageKind.Run) {
      const defs = data[1] as readonly FnDef[] | 0;
      if (defs !== 0) for (const [fnId, spec] of defs) specs.set(fnId, spec);
      // Behind a task that is waiting, this message's packed chunks would be read too late.
      if (transient && draining) ownPayloads(data, 2);
      inbox.push(data);
      if (!draining) void drain();
    } else if (data[0] === MessageKind.Rpc) {
      hub.deliver(data[1] as number, data[2]);
    } else if (data[0] === MessageKind.Stop) {
      stopping = true;
      if (!draining) channel.close();
    }
  };

  const start = async (): Promise<void> => {
    if (init.initializer !== undefined) {
      // The pool times the initializer (its `timeout`) from here, not from the worker's boot.
      channel.post([MessageKind.Initializing]);
      const initializer = await loadFunction(init.initializer);
      // Proxies in initargs live as long as the worker: never given back.
      await initializer(...hub.take(init.initargs, []));
    }
  };
  // Listening starts before the initializer runs: it may call shared objects, whose replies
  // come on this channel.
  channel.onMessage(onMessage);
  start().then(
    () => {
      channel.post([MessageKind.Ready]);
    },
    (thrown: unknown) => {
      channel.post([MessageKind.InitFailed, encodeThrown(explainThrown(init.initializer, thrown))]);
    },
  );
}
