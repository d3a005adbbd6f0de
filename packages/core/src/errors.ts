/**
 * mpool's error classes. Each has a stable `name` (safe to compare across realms and after
 * serialisation) and all share one base class, so `err instanceof MpoolError` catches them all.
 */

/**
 * What an error's constructor takes beside its message. Spelled out rather than the ES2022 lib's
 * `ErrorOptions`, so that programs compiled against an older lib can read these declarations.
 */
export interface MpoolErrorOptions {
  /** What led to this error; becomes its `cause`. */
  cause?: unknown;
}

/** Base class of every error mpool itself raises. */
export class MpoolError extends Error {
  /**
   * An error of mpool's: `message`, and `cause` when given.
   * @param message what went wrong, and what to do about it where mpool knows.
   * @param options `cause`: what led to this error. Default: none.
   */
  constructor(message: string, options?: MpoolErrorOptions) {
    super(message, options);
  }
}

/**
 * The brand of each of mpool's error classes, on its prototype: the class's name under a symbol of
 * the global registry, the same in every copy of mpool. An error made by another copy (a task
 * module's own install of mpool, or the process worker's bundle of its run loop) is known by it
 * as the class it is, which `instanceof` cannot tell across copies; a user's class that is only
 * called `TimeoutError` has none.
 */
export const ERROR_CLASS = Symbol.for('mpool.errorClass');

/**
 * Names live on the prototype, spelled out (not `constructor.name`, which minifiers mangle), so
 * that the stack header reads `PoolStateError: …` and no instance carries an own `name`; the
 * brand beside it (ERROR_CLASS).
 */
function nameClass(cls: { prototype: Error }, name: string): void {
  Object.defineProperty(cls.prototype, 'name', { value: name, enumerable: false, writable: true, configurable: true });
  Object.defineProperty(cls.prototype, ERROR_CLASS, { value: name, enumerable: false, writable: false, configurable: false });
}
nameClass(MpoolError, 'MpoolError');

/**
 * The pool is not in a state that allows the call: work submitted to a closed or terminated pool,
 * `join()` on a pool that is still running, a result lost to `terminate()`.
 */
export class PoolStateError extends MpoolError {
  /**
   * Made by a pool that refuses a call or drops a result.
   * @param message which call the pool refused, and its state.
   * @param options `cause`: what led to it. Default: none.
   */
  constructor(message: string, options?: MpoolErrorOptions) {
    super(message, options);
  }
}
nameClass(PoolStateError, 'PoolStateError');

/**
 * A wait ran out: `AsyncResult.get(ms)` (the task goes on), a task past its `timeout` (whose worker
 * was then stopped and replaced), a Manager's `lock.acquire(ms)` or `queue.get(ms)`. An
 * initializer past the pool's `timeout` fails its worker's start with one.
 */
export class TimeoutError extends MpoolError {
  /**
   * Made when a wait or a task runs out of time.
   * @param message what ran out of time, and after how many milliseconds.
   * @param options `cause`: what led to it. Default: none.
   */
  constructor(message: string, options?: MpoolErrorOptions) {
    super(message, options);
  }
}
nameClass(TimeoutError, 'TimeoutError');

/** How a worker ended: its exit code, or the signal that killed it (processes only). */
export interface WorkerExit {
  /** The exit code, or `null` when a signal killed the worker. */
  readonly code: number | null;
  /** The signal that killed the worker (processes only), or `null`. */
  readonly signal: NodeJS.Signals | null;
}

/**
 * The worker running a task died before the task finished: `process.exit()`, an uncaught
 * exception in a timer, a signal, running out of memory. The worker has been replaced.
 * `cause` holds the worker's own uncaught error when there was one.
 */
export class WorkerCrashedError extends MpoolError {
  /** The worker's exit code, or `null` when it was killed by a signal. */
  readonly exitCode: number | null;
  /** The signal that killed the worker (processes only), or `null`. */
  readonly signal: NodeJS.Signals | null;

  /**
   * Made by a pool whose worker died with the task on it.
   * @param message what happened to the worker.
   * @param exit how the worker ended: becomes `exitCode` and `signal`.
   * @param options `cause`: the worker's own uncaught error, when there was one. Default: none.
   */
  constructor(message: string, exit: WorkerExit, options?: MpoolErrorOptions) {
    super(message, options);
    this.exitCode = exit.code;
    this.signal = exit.signal;
  }
}
nameClass(WorkerCrashedError, 'WorkerCrashedError');

/**
 * The pool's workers could not start, three in a row: the `initializer` threw or ran past the
 * pool's `timeout`, or the workers died before they were ready. The pool stops trying, rejects
 * its pending work with this error (the last failure in `cause`), and refuses new work with a
 * `PoolStateError` whose `cause` is this error.
 */
export class InitializerError extends MpoolError {
  /**
   * Made by a pool that gives up starting workers.
   * @param message why the workers could not start.
   * @param options `cause`: what led to it. Default: none.
   */
  constructor(message: string, options?: MpoolErrorOptions) {
    super(message, options);
  }
}
nameClass(InitializerError, 'InitializerError');

/**
 * The pool's queue is full: as many tasks as its `maxQueue` wait for a worker, and the call that
 * would add more was refused. Wait for room with `await pool.drained()`, or the `'drain'` event.
 */
export class QueueFullError extends MpoolError {
  /**
   * Made by a pool that refuses work beyond its `maxQueue`.
   * @param message how many tasks wait, and how to wait for room.
   * @param options `cause`: what led to it. Default: none.
   */
  constructor(message: string, options?: MpoolErrorOptions) {
    super(message, options);
  }
}
nameClass(QueueFullError, 'QueueFullError');

/**
 * The pool lost its link to its workers and it did not come back in time: on the 'bullmq'
 * context, Redis did not answer for the pool's `startTimeout`. The task's fate is unknown: it may
 * have run, or may still run, on a worker. The pool goes on: once the link is back, new work runs.
 * `cause` holds the last connection error, when there was one.
 */
export class ConnectionLostError extends MpoolError {
  /**
   * Made by a pool that gives up waiting for its link to its workers.
   * @param message which link was lost, since when, and why.
   * @param options `cause`: the last connection error. Default: none.
   */
  constructor(message: string, options?: MpoolErrorOptions) {
    super(message, options);
  }
}
nameClass(ConnectionLostError, 'ConnectionLostError');

/** An argument or a result could not be copied between the pool and its worker. */
export class DataCloneError extends MpoolError {
  /**
   * Made when a value cannot be copied to or from a worker.
   * @param message what could not be copied, and why.
   * @param options `cause`: what led to it. Default: none.
   */
  constructor(message: string, options?: MpoolErrorOptions) {
    super(message, options);
  }
}
nameClass(DataCloneError, 'DataCloneError');

/**
 * For backends: `WorkerHandle.send` throws it when the worker cannot be sent anything any more,
 * because it has exited or is on its way out; nothing reached it. The pool then gives the work to
 * another worker, as after a crash, without counting it against this one, and ends this one.
 * Users never see it.
 */
export class WorkerGoneError extends MpoolError {
  /**
   * The send failed after the message's moved buffers (`transfer()`) were taken from their owners:
   * the jobs that moved them cannot be sent again. False when the backend found the worker gone
   * before it took anything.
   */
  readonly buffersTaken: boolean;

  /**
   * Made by a backend whose worker can no longer be sent anything.
   * @param message why nothing could be sent.
   * @param options `cause`: what led to it. Default: none. `buffersTaken`: see above. Default: false.
   */
  constructor(message: string, options?: MpoolErrorOptions & { readonly buffersTaken?: boolean }) {
    super(message, options);
    this.buffersTaken = options?.buffersTaken ?? false;
  }
}
nameClass(WorkerGoneError, 'WorkerGoneError');

/** `AsyncResult.successful()` was called before the result was ready. */
export class ResultNotReadyError extends MpoolError {
  /**
   * Made by `successful()` on a result still pending.
   * @param message what was asked too early.
   * @param options `cause`: what led to it. Default: none.
   */
  constructor(message: string, options?: MpoolErrorOptions) {
    super(message, options);
  }
}
nameClass(ResultNotReadyError, 'ResultNotReadyError');

/**
 * The task's `signal` was aborted: a queued task never ran; a running one's worker was stopped and
 * replaced. `cause` is the signal's `reason`.
 */
export class AbortError extends MpoolError {
  /**
   * Made when a call's signal aborts.
   * @param message which call was aborted.
   * @param options `cause`: what led to it. Default: none.
   */
  constructor(message: string, options?: MpoolErrorOptions) {
    super(message, options);
  }
}
nameClass(AbortError, 'AbortError');
