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
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { encodeThrown } from '../error-codec.js';
import type { WorkerChannel } from '../executor.js';
import { MessageKind, ResultStatus, RunMode, type FnDef, type FnSpec, type WorkerInit } from '../wire.js';
import { isPackedNumbers, NumberArena, packedView } from '../numbers.js';
import { RemoteHub } from './remote-hub.js';

/** A result waits at most this long for companions before it is sent. */
const FLUSH_INTERVAL_MS = 2;

type Callable = (...args: unknown[]) => unknown;

/** A chunk that stopped at item `index`; thrown inside the loop, sent as a ChunkFailure. */
class ChunkStop {
  constructor(readonly index: number, readonly before: unknown[], readonly thrown: unknown) {}
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null
    && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** Plain functions are rebuilt with a `require` that resolves from the working directory. */
const sourceRequire = createRequire(join(process.cwd(), '__mpool_task__.js'));

async function loadFunction(spec: FnSpec): Promise<Callable> {
  if (spec.kind === 'source') {
    const build = new Function('require', `return (${spec.source}\n);`) as (req: NodeJS.Require) => unknown;
    const fn = build(sourceRequire);
    if (typeof fn !== 'function') throw new TypeError(`Task ${spec.label} did not rebuild into a function`);
    return fn as Callable;
  }
  const ns = (await import(spec.module)) as Record<string, unknown>;
  let fn = ns[spec.exportName];
  // A CommonJS module whose named exports Node could not detect still has them on `default`.
  if (fn === undefined && spec.exportName !== 'default') {
    const cjs = ns.default;
    if ((typeof cjs === 'object' || typeof cjs === 'function') && cjs !== null) fn = (cjs as Record<string, unknown>)[spec.exportName];
  }
  if (typeof fn !== 'function') {
    throw new TypeError(`Export \`${spec.exportName}\` of ${spec.module} is not a function (got ${fn === null ? 'null' : typeof fn})`);
  }
  return fn as Callable;
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

/** Runs one task; returns its value, or a promise of it when the function is async. */
function runTask(fn: Callable, mode: RunMode, payload: unknown): unknown {
  if (mode === RunMode.Apply) return fn(...(payload as unknown[]));
  // Packed numbers are read in place, or from scratch space the next packed chunk reuses: the
  // tasks of one chunk are done before the next chunk starts.
  const items = (isPackedNumbers(payload) ? packedView(payload) : payload) as ArrayLike<unknown>;
  // Filled by push, never preallocated: a holey array would cross to the pool as a sparse one,
  // key by key, which V8's serializer writes and reads several times slower than a packed array.
  const results: unknown[] = [];
  for (let i = 0; i < items.length; i++) {
    let value: unknown;
    try {
      value = mode === RunMode.Map ? fn(items[i]) : fn(...(items[i] as unknown[]));
    } catch (thrown) {
      throw new ChunkStop(i, results, thrown);
    }
    if (isThenable(value)) return finishChunk(fn, mode, items, results, i, value);
    results.push(value);
  }
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
        const reason = error instanceof Error ? error.message : String(error);
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

  const drain = async (): Promise<void> => {
    draining = true;
    while (nextTask()) {
      const batch = message as unknown[];
      const fnId = batch[cursor] as number;
      const mode = batch[cursor + 1] as RunMode;
      const payload = batch[cursor + 2];
      batch[cursor + 2] = undefined; // let the arguments go as soon as the task has them
      cursor += 3;
      let fn = functions.get(fnId);
      if (fn === undefined) {
        flush(); // loading may take a while: what is done goes first
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
      try {
        let value = runTask(fn, mode, takeShared(hub, mode, payload, taken));
        if (isThenable(value)) {
          if (outbox.length > 2 && flushTimer === undefined) flushTimer = setTimeout(flush, FLUSH_INTERVAL_MS);
          value = await value;
        }
        // A chunk's results of numbers go packed where the channel takes that (see numbers.ts).
        outbox.push(ResultStatus.Ok, arena !== undefined && mode !== RunMode.Apply ? (arena.pack(value as unknown[]) ?? value) : value);
      } catch (thrown) {
        if (thrown instanceof ChunkStop) {
          outbox.push(ResultStatus.ChunkThrew, [thrown.index, thrown.before, encodeThrown(thrown.thrown)]);
        } else {
          outbox.push(ResultStatus.Threw, encodeThrown(thrown));
        }
      }
      if (taken.length > 0) {
        hub.release(taken);
        taken.length = 0;
      }
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
      channel.post([MessageKind.InitFailed, encodeThrown(thrown)]);
    },
  );
}
