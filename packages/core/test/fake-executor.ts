/**
 * A fake backend the tests drive by hand. Every worker it starts is a `FakeWorker` that records
 * what the pool sends it and answers only when the test says so: `initializing()`, `ready()`,
 * `answer(…)`, `reply(…)`, `initFailed(…)`, `exit(…)`, `exitSaying(…)`. Nothing happens on its own, so the
 * scheduler's every step can be watched in order.
 *
 *   Pool ─send()──▶ FakeWorker.sent / .unanswered        (copied with structuredClone, as postMessage does)
 *   test ─ready()/answer()/exit()──▶ events.message / events.exit ──▶ scheduler
 *
 * In `live` mode each worker runs the real run loop in this process instead, over an in-memory
 * channel that copies every message and delivers it on a later turn of the event loop; it can
 * only run plain functions, since jest cannot `import()` task modules in its own process.
 *
 * The fake also checks the protocol as it goes (no RUN before READY or after STOP, no message to
 * an exited or terminated worker, no task naming a function the worker was never given) and
 * lists what it saw in `violations`, which every test expects to stay empty.
 */
import type { Executor, PoolBackend, WorkerEvents, WorkerExitInfo, WorkerHandle, WorkerInit, WorkerLastWord } from '@mpool/core';
import type { WorkerChannel } from '../src/executor.js';
import { encodeThrown } from '../src/error-codec.js';
import { runWorker } from '../src/worker/run-loop.js';
import { MessageKind, ResultStatus, RunMode, type FnDef } from '../src/wire.js';

/** One task as it travelled in a RUN message. */
export interface SentTask {
  readonly fnId: number;
  readonly mode: RunMode;
  readonly payload: unknown;
}

/** A result as it travels in a RESULTS message: status, then value. */
export type ResultPair = readonly [ResultStatus, unknown];

export const ok = (value: unknown): ResultPair => [ResultStatus.Ok, value];
export const threw = (thrown: unknown): ResultPair => [ResultStatus.Threw, encodeThrown(thrown)];
export const chunkThrew = (index: number, before: readonly unknown[], thrown: unknown): ResultPair => [
  ResultStatus.ChunkThrew,
  [index, before, encodeThrown(thrown)],
];

export interface FakeExecutorOptions {
  /** Run the real worker run loop in-process. Default: false (the test answers by hand). */
  readonly live?: boolean;
  /** `terminate()` makes the worker exit with code 1 a microtask later, as a real one does. Default: true. */
  readonly exitOnTerminate?: boolean;
}

/** Lets every queued microtask (and anything they queue in turn) run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Whether a promise has settled yet, without waiting for it. */
export async function hasSettled(promise: PromiseLike<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  await settle();
  return settled;
}

/** Runs what a task asks for the way the run loop does, with `fn` standing in for its function. */
function compute(task: SentTask, fn: (...args: never[]) => unknown): unknown {
  const call = fn as (...args: unknown[]) => unknown;
  switch (task.mode) {
    case RunMode.Apply:
      return call(...(task.payload as unknown[]));
    case RunMode.Map:
      return (task.payload as unknown[]).map((item) => call(item));
    default:
      return (task.payload as unknown[][]).map((args) => call(...args));
  }
}

export class FakeWorker implements WorkerHandle {
  /** Every message the pool managed to send, as the worker received it, in order. */
  readonly sent: unknown[][] = [];
  /** Every message `send()` refused (threw for), as given. */
  readonly refused: unknown[][] = [];
  /** Tasks sent and not answered yet, oldest first. */
  readonly unanswered: SentTask[] = [];
  /** Whether the worker keeps the parent alive; a new worker does, as a real one. */
  referenced = true;
  terminateCalls = 0;
  exitInfo: WorkerExitInfo | undefined;
  /** Set by a test to refuse some messages: throw from it as `postMessage` throws for an uncloneable one. */
  checkSend: ((message: unknown[]) => void) | undefined;

  readonly #executor: FakeExecutor;
  readonly #events: WorkerEvents;
  readonly #known = new Set<number>();
  #isReady = false;
  #exited: Promise<void>;
  #resolveExited!: () => void;
  /** Live mode: the run loop's message handler, and what came before it listened. */
  #workerHandler: ((message: unknown) => void) | undefined;
  /** Live mode: what the run loop counted (WorkerChannel.progress). */
  #liveProgress: { started: number; running: boolean } | undefined;
  readonly #workerBacklog: unknown[][] = [];
  readonly #sendWaiters: { kind: MessageKind; resolve: () => void }[] = [];

  constructor(executor: FakeExecutor, readonly id: number, readonly init: WorkerInit, events: WorkerEvents) {
    this.#executor = executor;
    this.#events = events;
    this.#exited = new Promise((resolve) => {
      this.#resolveExited = resolve;
    });
  }

  /** The RUN messages received. */
  get runs(): unknown[][] {
    return this.sent.filter((message) => message[0] === MessageKind.Run);
  }

  /** Every task received, in order. */
  get tasks(): SentTask[] {
    return this.runs.flatMap(tasksOf);
  }

  /** The plugin modules it knows, by number: those of its WorkerInit, then those announced to it. */
  get plugins(): string[] {
    const announced = this.sent.filter((message) => message[0] === MessageKind.Plugins).flatMap((message) => message[1] as string[]);
    return [...(this.init.plugins ?? []), ...announced];
  }

  /** Whether it was told to STOP. */
  get stopped(): boolean {
    return this.sent.some((message) => message[0] === MessageKind.Stop);
  }

  get exited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** Live mode: what its run loop has counted so far, the last word it would leave now. */
  get counted(): WorkerLastWord | undefined {
    return this.#liveProgress === undefined ? undefined : { ...this.#liveProgress };
  }

  // ── WorkerHandle: what the pool calls ─────────────────────────────────────────────────────────

  send(message: unknown[]): void {
    if (this.exited) this.#violation(`message ${describeKind(message)} sent after the worker exited`);
    else if (this.terminateCalls > 0) this.#violation(`message ${describeKind(message)} sent after terminate()`);
    else if (this.stopped) this.#violation(`message ${describeKind(message)} sent after STOP`);
    else if (message[0] === MessageKind.Run && !this.#isReady) this.#violation('RUN sent before READY');
    let copy: unknown[];
    try {
      this.checkSend?.(message);
      copy = structuredClone(message);
    } catch (error) {
      this.refused.push(message);
      throw error;
    }
    this.sent.push(copy);
    for (const waiter of this.#sendWaiters.filter((w) => w.kind === copy[0])) {
      this.#sendWaiters.splice(this.#sendWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    if (copy[0] === MessageKind.Run) {
      const defs = copy[1] as readonly FnDef[] | 0;
      if (defs !== 0) for (const [fnId] of defs) this.#known.add(fnId);
      for (const task of tasksOf(copy)) {
        if (!this.#known.has(task.fnId)) this.#violation(`task names function ${task.fnId}, never defined for this worker`);
        this.unanswered.push(task);
      }
    }
    if (this.#executor.live) setImmediate(() => this.#toWorker(copy));
  }

  terminate(): Promise<void> {
    this.terminateCalls++;
    if (this.#executor.exitOnTerminate && this.terminateCalls === 1 && !this.exited) {
      queueMicrotask(() => {
        if (!this.exited) this.exit(1);
      });
    }
    return this.#exited;
  }

  ref(): void {
    this.referenced = true;
  }

  unref(): void {
    this.referenced = false;
  }

  // ── What the test makes the worker do ─────────────────────────────────────────────────────────

  /** Replies INITIALIZING: the initializer starts to load and run (its time starts). */
  initializing(): void {
    this.#toPool([MessageKind.Initializing]);
  }

  /** Replies READY: the initializer ran. */
  ready(): void {
    this.#toPool([MessageKind.Ready]);
  }

  /** Replies INIT_FAILED with `thrown`, as a worker whose initializer threw. */
  initFailed(thrown: unknown): void {
    this.#toPool([MessageKind.InitFailed, encodeThrown(thrown)]);
  }

  /** Replies one RESULTS message for the oldest unanswered tasks, one pair per task. */
  reply(busyMs: number, ...results: ResultPair[]): void {
    this.#toPool([MessageKind.Results, busyMs, ...results.flat()]);
  }

  /**
   * Answers the oldest `count` unanswered tasks (default: all) in one RESULTS message, computing
   * each result with `fn` as the run loop would (per item for chunks).
   */
  answer(fn: (...args: never[]) => unknown, options: { count?: number; busyMs?: number } = {}): void {
    const count = options.count ?? this.unanswered.length;
    if (count > this.unanswered.length) throw new Error(`worker ${this.id} has ${this.unanswered.length} unanswered tasks, not ${count}`);
    const results = this.unanswered.slice(0, count).map((task) => ok(compute(task, fn)));
    this.reply(options.busyMs ?? 0, ...results);
  }

  /** Sends the pool any message, as a worker's plugin does its SIDE frames. */
  tell(message: unknown[]): void {
    this.#toPool(message);
  }

  /**
   * Ends the worker, as a crash or `process.exit(code)` would. In live mode it leaves the last
   * word its run loop counted, as a thread does; otherwise none, as after SIGKILL.
   */
  exit(code: number | null, signal: NodeJS.Signals | null = null, error?: unknown): void {
    const live = this.#liveProgress;
    this.#end(code, signal, error, live === undefined ? undefined : { ...live });
  }

  /** Ends the worker as `exit` does, with its last word: `word.started` tasks begun, the last one `word.running` or not. */
  exitSaying(word: WorkerLastWord, code: number | null = 1, error?: unknown): void {
    this.#end(code, null, error, word);
  }

  #end(code: number | null, signal: NodeJS.Signals | null, error: unknown, lastWord: WorkerLastWord | undefined): void {
    if (this.exited) throw new Error(`worker ${this.id} exited twice`);
    this.exitInfo = { code, signal, ...(error === undefined ? {} : { error }), ...(lastWord === undefined ? {} : { lastWord }) };
    this.#resolveExited();
    this.#events.exit(this.exitInfo);
  }

  /** Resolves once the pool has sent this worker a message of `kind` (at once if it has). */
  received(kind: MessageKind): Promise<void> {
    if (this.sent.some((message) => message[0] === kind)) return Promise.resolve();
    return new Promise((resolve) => this.#sendWaiters.push({ kind, resolve }));
  }

  /** Resolves once the worker has exited. */
  whenExited(): Promise<void> {
    return this.#exited;
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────────────

  /** A message from the worker to the pool. */
  #toPool(message: unknown[]): void {
    if (this.exited) return; // an exited worker says nothing more
    const copy = structuredClone(message);
    if (copy[0] === MessageKind.Ready) this.#isReady = true;
    if (copy[0] === MessageKind.Results) this.unanswered.splice(0, (copy.length - 2) / 2);
    this.#events.message(copy);
  }

  #toWorker(message: unknown[]): void {
    if (this.exited || this.terminateCalls > 0) return;
    if (this.#workerHandler === undefined) this.#workerBacklog.push(message);
    else this.#workerHandler(message);
  }

  /** Live mode: starts the real run loop on an in-memory channel. */
  startRunLoop(): void {
    const progress = { started: 0, running: false };
    this.#liveProgress = progress;
    const channel: WorkerChannel = {
      progress: {
        taskStarted: () => {
          progress.started++;
          progress.running = true;
        },
        taskEnded: () => {
          progress.running = false;
        },
      },
      post: (message) => {
        const copy = structuredClone(message); // throws for what cannot be copied, as postMessage does
        setImmediate(() => {
          if (this.terminateCalls === 0) this.#toPool(copy);
        });
      },
      onMessage: (handler) => {
        this.#workerHandler = handler;
        for (const message of this.#workerBacklog.splice(0)) handler(message);
      },
      // The run loop stops listening; a real worker then ends with an empty event loop.
      close: () => {
        setImmediate(() => {
          if (!this.exited) this.exit(0);
        });
      },
    };
    runWorker(channel, this.init);
  }

  #violation(what: string): void {
    this.#executor.violations.push(`worker ${this.id}: ${what}`);
  }
}

export function tasksOf(message: unknown[]): SentTask[] {
  const tasks: SentTask[] = [];
  for (let i = 2; i < message.length; i += 3) {
    tasks.push({ fnId: message[i] as number, mode: message[i + 1] as RunMode, payload: message[i + 2] });
  }
  return tasks;
}

function describeKind(message: unknown[]): string {
  return message[0] === MessageKind.Run ? 'RUN' : message[0] === MessageKind.Stop ? 'STOP' : String(message[0]);
}

export class FakeExecutor implements Executor {
  /** Every worker started, in order. */
  readonly workers: FakeWorker[] = [];
  /** Protocol breaches seen, in words. */
  readonly violations: string[] = [];
  readonly live: boolean;
  readonly exitOnTerminate: boolean;
  /** How many times the pool released the backend. */
  shutdownCalls = 0;

  constructor(options: FakeExecutorOptions = {}) {
    this.live = options.live ?? false;
    this.exitOnTerminate = options.exitOnTerminate ?? true;
  }

  /** What `new Pool(options, backend)` takes. */
  get backend(): PoolBackend {
    return { context: 'fake', executor: this };
  }

  /** Workers that have not exited. */
  get alive(): FakeWorker[] {
    return this.workers.filter((worker) => !worker.exited);
  }

  shutdown(): void {
    this.shutdownCalls++;
  }

  start(init: WorkerInit, events: WorkerEvents): WorkerHandle {
    const worker = new FakeWorker(this, this.workers.length + 1, init, events);
    this.workers.push(worker);
    if (this.live) worker.startRunLoop();
    return worker;
  }
}
