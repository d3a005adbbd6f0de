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
  constructor(message: string, options?: MpoolErrorOptions) {
    super(message, options);
  }
}

/**
 * Names live on the prototype, spelled out (not `constructor.name`, which minifiers mangle), so
 * that the stack header reads `PoolStateError: …` and no instance carries an own `name`.
 */
function nameClass(cls: { prototype: Error }, name: string): void {
  Object.defineProperty(cls.prototype, 'name', { value: name, enumerable: false, writable: true, configurable: true });
}
nameClass(MpoolError, 'MpoolError');

/**
 * The pool is not in a state that allows the call: work submitted to a closed or terminated pool,
 * `join()` on a pool that is still running, a result lost to `terminate()`.
 */
export class PoolStateError extends MpoolError {
  constructor(message: string, options?: MpoolErrorOptions) {
    super(message, options);
  }
}
nameClass(PoolStateError, 'PoolStateError');

/**
 * A wait ran out: `AsyncResult.get(ms)`, or a task past its `timeout` (whose worker was then
 * stopped and replaced).
 */
export class TimeoutError extends MpoolError {
  constructor(message: string, options?: MpoolErrorOptions) {
    super(message, options);
  }
}
nameClass(TimeoutError, 'TimeoutError');

/** How a worker ended: its exit code, or the signal that killed it (processes only). */
export interface WorkerExit {
  readonly code: number | null;
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

  constructor(message: string, exit: WorkerExit, options?: MpoolErrorOptions) {
    super(message, options);
    this.exitCode = exit.code;
    this.signal = exit.signal;
  }
}
nameClass(WorkerCrashedError, 'WorkerCrashedError');

/**
 * A worker could not start: the `initializer` threw, or the worker died before it was ready.
 * After repeated failures the pool stops trying and rejects its pending work with this error.
 */
export class InitializerError extends MpoolError {
  constructor(message: string, options?: MpoolErrorOptions) {
    super(message, options);
  }
}
nameClass(InitializerError, 'InitializerError');

/** An argument or a result could not be copied between the pool and its worker. */
export class DataCloneError extends MpoolError {
  constructor(message: string, options?: MpoolErrorOptions) {
    super(message, options);
  }
}
nameClass(DataCloneError, 'DataCloneError');

/**
 * For backends: `WorkerHandle.send` throws it when the worker cannot be sent anything any more,
 * because it has exited or is on its way out; nothing was sent. The pool then gives the work to
 * another worker, as after a crash, without counting it against this one, and ends this one.
 * Users never see it.
 */
export class WorkerGoneError extends MpoolError {
  constructor(message: string, options?: MpoolErrorOptions) {
    super(message, options);
  }
}
nameClass(WorkerGoneError, 'WorkerGoneError');

/** `AsyncResult.successful()` was called before the result was ready. */
export class ResultNotReadyError extends MpoolError {
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
  constructor(message: string, options?: MpoolErrorOptions) {
    super(message, options);
  }
}
nameClass(AbortError, 'AbortError');
