/**
 * The worker side of every backend: load functions once, run what the pool sends, in order, one
 * at a time, and send the results back in batches.
 *
 *   [RUN …] ──▶ inbox (one entry per message) ──▶ #drain(): each task ──▶ Outbox ──▶ [RESULTS …]
 *                                                     │
 *                       Functions (loaded once) ◀─────┤──▶ Plugins (around each task)
 *                                                     └──▶ the codec (a chunk's items and results)
 *
 * The loop's own states:
 *
 *   starting ──READY──▶ idle ◀──drained──▶ running ──STOP──▶ stopping ──drained──▶ closed
 *                        └──────────────────STOP──────────────────────────────────────▲
 *
 * While running it may wait (on a function's module, or on a task that returns a promise): the
 * messages that come meanwhile wait in the inbox, and where the channel lends their memory (see
 * WorkerPayloadCodec) their payloads are kept first.
 *
 * Each task is counted as it starts and as it ends, through the channel's `progress`, so that the
 * pool hears, however the worker ends, which of the tasks it sent were never started.
 */
import { performance } from 'node:perf_hooks';
import type { WorkerPayloadCodec } from '../codec.js';
import { encodeThrown } from '../error-codec.js';
import type { TaskProgress, WorkerChannel } from '../executor.js';
import { MessageKind, ResultStatus, RunMode, type FnDef, type WorkerInit } from '../wire.js';
import { setWorkerData } from '../worker-data.js';
import { isChunkStop, isThenable } from './chunk.js';
import { CloneWorkerCodec } from './codecs.js';
import { Functions } from './functions.js';
import { explainThrown, loadFunction, type Callable } from './load-task.js';
import { Outbox } from './outbox.js';
import { Plugins } from './plugins.js';

const enum LoopState {
  /** Loading its plugins, running the initializer; READY (or INIT_FAILED) ends it. */
  Starting,
  /** Nothing to run: the next RUN starts the drain. */
  Idle,
  /** Draining the inbox, task after task. */
  Running,
  /** Told to STOP while running: it closes once the inbox is drained. */
  Stopping,
  /** The channel is closed: the worker ends once its event loop is empty. */
  Closed,
}

/** The elements of a RUN message before its tasks, and the elements of each task. */
const RUN_HEAD = 2;
const TASK_LENGTH = 3;

/** The progress of a channel that keeps no count. */
const UNCOUNTED: TaskProgress = {
  taskStarted: () => undefined,
  taskEnded: () => undefined,
};

class RunLoop {
  readonly #channel: WorkerChannel;
  readonly #init: WorkerInit;
  /** How payloads and results travel (codec.ts). */
  readonly #codec: WorkerPayloadCodec;
  readonly #functions = new Functions();
  readonly #outbox: Outbox;
  readonly #plugins: Plugins;
  /** Where tasks are counted as they start and end (WorkerChannel.progress). */
  readonly #progress: TaskProgress;
  #state = LoopState.Starting;
  /** RUN messages not yet begun. */
  readonly #inbox: unknown[][] = [];
  /** The RUN message being run, and where its next task starts in it. */
  #message: unknown[] | undefined;
  #cursor = 0;
  /** The message whose remaining payloads have been kept already (see #beforeWait). */
  #kept: unknown[] | undefined;

  constructor(channel: WorkerChannel, init: WorkerInit) {
    this.#channel = channel;
    this.#init = init;
    this.#codec = channel.codec ?? new CloneWorkerCodec();
    this.#outbox = new Outbox(channel, this.#codec);
    this.#plugins = new Plugins((message) => channel.post(message));
    this.#progress = channel.progress ?? UNCOUNTED;
  }

  /** Runs the initializer, then says READY (or INIT_FAILED), listening from the start. */
  start(): void {
    this.#plugins.load(this.#init.plugins ?? []);
    // Listening starts before the initializer runs: it may call its plugins' objects, whose
    // replies come on this channel.
    this.#channel.onMessage((data) => this.#onMessage(data));
    this.#initialize().then(
      () => {
        if (this.#state === LoopState.Starting) this.#state = LoopState.Idle;
        this.#channel.post([MessageKind.Ready]);
      },
      (thrown: unknown) => {
        this.#channel.post([MessageKind.InitFailed, encodeThrown(explainThrown(this.#init.initializer, thrown))]);
      },
    );
  }

  async #initialize(): Promise<void> {
    const { initializer, initargs } = this.#init;
    if (initializer === undefined) return;
    // The pool times the initializer (its `timeout`) from here, not from the worker's boot.
    this.#channel.post([MessageKind.Initializing]);
    const fn = await loadFunction(initializer);
    // Outside any task: what the plugins make of initargs lasts as long as the worker.
    await fn(...(this.#plugins.present(RunMode.Apply, initargs) as unknown[]));
  }

  #onMessage(data: unknown): void {
    if (!Array.isArray(data)) return;
    switch (data[0]) {
      case MessageKind.Run: {
        const defs = data[1] as readonly FnDef[] | 0;
        if (defs !== 0) this.#functions.define(defs);
        const running = this.#state === LoopState.Running || this.#state === LoopState.Stopping;
        // Behind a task that is waiting, this message's payloads would be read too late.
        if (running && this.#codec.lendsPayloads) this.#keepPayloads(data, RUN_HEAD);
        this.#inbox.push(data);
        if (!running) void this.#drain();
        break;
      }
      case MessageKind.Side:
        this.#plugins.deliver(data[1] as number, data[2] as number, data[3]);
        break;
      case MessageKind.Plugins:
        this.#plugins.load(data[1] as readonly string[]);
        break;
      case MessageKind.Stop:
        if (this.#state === LoopState.Running || this.#state === LoopState.Stopping) this.#state = LoopState.Stopping;
        else this.#close();
        break;
      default:
        break;
    }
  }

  #close(): void {
    this.#state = LoopState.Closed;
    this.#channel.close();
  }

  /** Runs every task in the inbox, in order, one at a time. */
  async #drain(): Promise<void> {
    this.#state = LoopState.Running;
    while (this.#nextTask()) {
      const message = this.#message as unknown[];
      const at = this.#cursor;
      const fnId = message[at] as number;
      const mode = message[at + 1] as RunMode;
      let payload = message[at + 2];
      message[at + 2] = undefined; // let the arguments go as soon as the task has them
      this.#cursor += TASK_LENGTH;
      let fn = this.#functions.loaded(fnId);
      if (fn === undefined) {
        this.#outbox.flush(); // loading may take a while: what is done goes first
        payload = this.#beforeWait(payload);
        try {
          fn = await this.#functions.load(fnId);
        } catch (thrown) {
          this.#progress.taskStarted(); // counted all the same: every task answered is
          this.#outbox.push(ResultStatus.Threw, encodeThrown(thrown));
          this.#progress.taskEnded();
          continue;
        }
      }
      // The task starts once its function is there: a worker that dies while a module loads (a
      // timer an earlier task left) has not started it, and the pool sends it elsewhere unblamed.
      this.#progress.taskStarted();
      const started = performance.now();
      this.#plugins.beginTask();
      try {
        let value = this.#runTask(fn, mode, this.#plugins.present(mode, payload));
        if (isThenable(value)) {
          this.#outbox.flushSoon();
          this.#beforeWait(undefined);
          value = await value;
        }
        this.#outbox.push(ResultStatus.Ok, this.#codec.encodeResult(mode, value));
      } catch (thrown) {
        this.#failed(fnId, thrown);
      }
      this.#progress.taskEnded();
      this.#plugins.endTask();
      this.#outbox.ran(started, performance.now());
    }
    this.#drained();
  }

  /** The inbox is empty: the loop waits for the next RUN, or closes if it was told to STOP. */
  #drained(): void {
    if (this.#state === LoopState.Stopping) this.#close();
    else this.#state = LoopState.Idle;
  }

  /** Runs one task; returns its value, or a promise of it when the function is async. */
  #runTask(fn: Callable, mode: RunMode, payload: unknown): unknown {
    if (mode === RunMode.Apply) return fn(...(payload as unknown[]));
    return this.#codec.runChunk(fn, mode, payload);
  }

  /** Task `fnId` threw `thrown` (a chunk's ChunkStop, or its function's own error). */
  #failed(fnId: number, thrown: unknown): void {
    const spec = this.#functions.spec(fnId);
    if (isChunkStop(thrown)) this.#outbox.push(ResultStatus.ChunkThrew, [thrown.index, this.#codec.encodeBefore(thrown.before), encodeThrown(explainThrown(spec, thrown.thrown))]);
    else this.#outbox.push(ResultStatus.Threw, encodeThrown(explainThrown(spec, thrown)));
  }

  /** Moves to the next task, answering each message the pool sent as it ends; false when none is left. */
  #nextTask(): boolean {
    while (this.#message === undefined || this.#cursor >= this.#message.length) {
      if (this.#message !== undefined) this.#outbox.flush(); // the end of one message from the pool: answer it
      this.#message = this.#inbox.shift();
      if (this.#message === undefined) return false;
      this.#cursor = RUN_HEAD;
    }
    return true;
  }

  /**
   * The loop is about to wait: where the channel lends its memory, what the current message still
   * holds (and `payload`, its task's) is kept first. Messages that come while it waits are kept as
   * they come (#onMessage).
   */
  #beforeWait(payload: unknown): unknown {
    if (!this.#codec.lendsPayloads) return payload;
    const message = this.#message;
    if (message !== undefined && this.#kept !== message) {
      this.#keepPayloads(message, this.#cursor);
      this.#kept = message;
    }
    return this.#codec.keep(payload);
  }

  /** The payloads of `message`'s tasks from `cursor` on, kept out of memory the channel lends. */
  #keepPayloads(message: unknown[], cursor: number): void {
    for (let i = cursor + 2; i < message.length; i += TASK_LENGTH) message[i] = this.#codec.keep(message[i]);
  }
}

/**
 * Runs the worker: the initializer first, then `[READY]`, then tasks until `[STOP]`.
 * Each backend's worker entry calls this with its channel and the init data it was started with.
 */
export function runWorker(channel: WorkerChannel, init: WorkerInit): void {
  setWorkerData(init.workerData);
  new RunLoop(channel, init).start();
}
