/**
 * The one interface a backend implements. The scheduler talks to workers only through it and
 * never imports `worker_threads` or `child_process`; a backend knows nothing of queues, chunks or
 * results, only how to start a worker and carry messages to and from it.
 */
import type { PayloadCodec, WorkerPayloadCodec } from './codec.js';
import type { WorkerInit } from './wire.js';

/** Memory limits of a worker, in Node's `resourceLimits` terms. */
export interface WorkerLimits {
  /** The main heap's limit, in MiB. Default: Node's own. */
  readonly maxOldGenerationSizeMb?: number;
  /**
   * The young generation's limit, in MiB (for a process: three semi-spaces, which may grow to a
   * third each). Default: Node's own for a thread; for a process, semi-spaces kept at 4 MiB.
   */
  readonly maxYoungGenerationSizeMb?: number;
  /** The code range, in MiB (threads only). Default: Node's own. */
  readonly codeRangeSizeMb?: number;
  /** The thread's stack, in MiB (threads only). Default: Node's own (4). */
  readonly stackSizeMb?: number;
}

/**
 * How far a worker had got with its tasks when it ended, as its run loop counted them (see
 * `WorkerChannel.progress`): the pool then knows which of the tasks it sent were never started.
 */
export interface WorkerLastWord {
  /**
   * Tasks it started in its life, in the order it was sent them: each task of a RUN message, a
   * chunk as one. It may wrap around as a 32-bit integer does (a count kept in an Int32Array):
   * the scheduler reads it modulo 2^32.
   */
  readonly started: number;
  /** Whether the last of them was still running: started, and its result not yet handed to the outbox. */
  readonly running: boolean;
}

/** How a worker ended. */
export interface WorkerExitInfo {
  /** The exit code, or `null` when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it (processes), or `null`. */
  readonly signal: NodeJS.Signals | null;
  /** The worker's own uncaught error or failure to start, when the backend saw one. */
  readonly error?: unknown;
  /**
   * Its last word, when the backend could hear one (not after SIGKILL or a V8 abort, for one).
   * Default: none, and every task it had unanswered is a suspect.
   */
  readonly lastWord?: WorkerLastWord;
}

/** What a backend reports about one worker. `exit` is called exactly once, last. */
export interface WorkerEvents {
  message(message: unknown): void;
  exit(info: WorkerExitInfo): void;
}

/** One running worker, as the scheduler sees it. */
export interface WorkerHandle {
  /** A number that names the worker for people: thread id or process id. */
  readonly id: number;
  /**
   * Sends a protocol message; throws, sending nothing, when the message cannot be copied, and
   * throws `WorkerGoneError`, sending nothing, when the worker has exited or is on its way out
   * (its `exit` follows). `transfer`: ArrayBuffers the codec asks to move rather than copy (see
   * codec.ts); a backend that cannot move them copies them, as it copies everything else.
   */
  send(message: unknown[], transfer?: readonly ArrayBuffer[]): void;
  /** Stops the worker now, mid-task if need be. Resolves once it is gone. */
  terminate(): Promise<void>;
  /** Lets the worker keep the parent process alive (it has work), or not (it is idle). */
  ref(): void;
  unref(): void;
}

/** A backend: starts workers of one kind. */
export interface Executor {
  /**
   * How task payloads and chunk results travel to and from this backend's workers (codec.ts); its
   * workers' channels use the matching worker side. Default: structured clone as it is.
   */
  readonly codec?: PayloadCodec;
  /**
   * Milliseconds a message takes to reach a worker and its answer to come back, when that is far
   * more than between threads or processes (workers on other machines): the scheduler keeps at
   * least this much work in flight per worker, and waits this much longer before it takes a
   * worker that has not answered for one that is stuck. Default: none (a local backend).
   */
  readonly roundTripMs?: number;
  start(init: WorkerInit, events: WorkerEvents): WorkerHandle;
  /**
   * Releases what the backend holds beyond its workers (a spare process); called once the pool is
   * done. The pool's `join()` waits for it.
   */
  shutdown?(): void | Promise<void>;
}

/**
 * Where a worker's run loop says, as it goes, how far it has got, so that its backend can tell the
 * pool when the worker ends (`WorkerExitInfo.lastWord`), however it ends. Called on the hot path:
 * each call must cost next to nothing.
 */
export interface TaskProgress {
  /**
   * A task starts, its function loaded (one whose function failed to load starts and ends at
   * once): one more started, and it runs.
   */
  taskStarted(): void;
  /** The task that runs is over: its result (or error) is in the outbox. */
  taskEnded(): void;
}

/** The worker side of a backend: how the shared run loop hears and answers the pool. */
export interface WorkerChannel {
  /** The worker side of the backend's codec (codec.ts). Default: structured clone as it is. */
  readonly codec?: WorkerPayloadCodec;
  /** Where the run loop counts the tasks it starts and ends. Default: none (the worker leaves no last word). */
  readonly progress?: TaskProgress;
  /** As `WorkerHandle.send`, the other way. */
  post(message: unknown[], transfer?: readonly ArrayBuffer[]): void;
  onMessage(handler: (message: unknown) => void): void;
  /** Stops listening, so that the worker ends once its event loop is empty. */
  close(): void;
}
