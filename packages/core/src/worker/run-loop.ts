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
import type { WorkerPayloadCodec } from '../codec.js';
import { isChunkStop, isThenable } from './chunk.js';
import { CloneWorkerCodec } from './codecs.js';
import { explainThrown, loadFunction, type Callable } from './load-task.js';
import { Plugins } from './plugins.js';

/** A result waits at most this long for companions before it is sent. */
const FLUSH_INTERVAL_MS = 2;

/** Runs one task; returns its value, or a promise of it when the function is async. */
function runTask(fn: Callable, mode: RunMode, payload: unknown, codec: WorkerPayloadCodec): unknown {
  if (mode === RunMode.Apply) return fn(...(payload as unknown[]));
  return codec.runChunk(fn, mode, payload);
}

/** The payloads of `batch`'s tasks from `cursor` on, kept out of memory the channel lends (see WorkerPayloadCodec). */
function keepPayloads(codec: WorkerPayloadCodec, batch: unknown[], cursor: number): void {
  for (let i = cursor + 2; i < batch.length; i += 3) batch[i] = codec.keep(batch[i]);
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
  const plugins = new Plugins((message) => channel.post(message));
  /** How payloads and results travel (codec.ts). */
  const codec = channel.codec ?? new CloneWorkerCodec();
  /** Payloads are the channel's memory until onMessage returns (see beforeWait). */
  const lent = codec.lendsPayloads;
  /** The message whose remaining payloads beforeWait has kept already. */
  let owned: unknown[] | undefined;

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
    try {
      codec.post(channel, batch);
    } catch {
      postOneByOne(batch);
    }
  };

  /** A batch failed to copy: send its results one by one, replacing the ones that cannot go. */
  const postOneByOne = (batch: unknown[]): void => {
    for (let i = 2; i < batch.length; i += 2) {
      try {
        codec.post(channel, [MessageKind.Results, 0, batch[i], batch[i + 1]]);
      } catch (error) {
        // What failed may be a result's own getter, and what it threw anything at all.
        const reason = safeMessage(error);
        codec.post(channel, [MessageKind.Results, 0, ResultStatus.Uncloneable, reason]);
      }
    }
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
   * The run loop is about to wait: where the channel lends its memory, what the current message
   * still holds (and `payload`, its task's) is kept first. Messages that come while it waits are
   * kept as they come (onMessage).
   */
  const beforeWait = (payload: unknown): unknown => {
    if (!lent) return payload;
    if (message !== undefined && owned !== message) {
      keepPayloads(codec, message, cursor);
      owned = message;
    }
    return codec.keep(payload);
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
      plugins.beginTask();
      try {
        let value = runTask(fn, mode, plugins.present(mode, payload), codec);
        if (isThenable(value)) {
          if (outbox.length > 2 && flushTimer === undefined) flushTimer = setTimeout(flush, FLUSH_INTERVAL_MS);
          beforeWait(undefined);
          value = await value;
        }
        outbox.push(ResultStatus.Ok, codec.encodeResult(mode, value));
      } catch (thrown) {
        if (isChunkStop(thrown)) {
          outbox.push(ResultStatus.ChunkThrew, [thrown.index, thrown.before, encodeThrown(explainThrown(specs.get(fnId), thrown.thrown))]);
        } else {
          outbox.push(ResultStatus.Threw, encodeThrown(explainThrown(specs.get(fnId), thrown)));
        }
      }
      plugins.endTask();
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
      // Behind a task that is waiting, this message's payloads would be read too late.
      if (lent && draining) keepPayloads(codec, data, 2);
      inbox.push(data);
      if (!draining) void drain();
    } else if (data[0] === MessageKind.Side) {
      plugins.deliver(data[1] as number, data[2] as number, data[3]);
    } else if (data[0] === MessageKind.Plugins) {
      plugins.load(data[1] as readonly string[]);
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
      // Outside any task: what the plugins make of initargs lasts as long as the worker.
      await initializer(...(plugins.present(RunMode.Apply, init.initargs) as unknown[]));
    }
  };
  plugins.load(init.plugins ?? []);
  // Listening starts before the initializer runs: it may call its plugins' objects, whose
  // replies come on this channel.
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
