/**
 * `AsyncResult`, Python's `multiprocessing.pool.AsyncResult`: the handle `applyAsync` and
 * `mapAsync` return. A result is `pending` until it settles once, as `fulfilled` or `rejected`.
 *
 * A failed result that nobody asks for stays quiet, as in Python: the rejection only becomes a
 * promise when `get()` or `then()` is called, so an ignored failure is not an unhandled rejection.
 */
import { reportLater } from './call-options.js';
import { ResultNotReadyError, TimeoutError } from './errors.js';
import { checkTimeout } from './validate.js';

type State = 'pending' | 'fulfilled' | 'rejected';

/** Callbacks for `applyAsync` and `mapAsync`, run once, before any `wait()` resolves. */
export interface ResultCallbacks<T> {
  /** Called with the value when the task succeeds. Default: none. */
  callback?: (value: T) => void;
  /** Called with the error when the task fails. Default: none. */
  errorCallback?: (error: unknown) => void;
}

/** Settles a result; kept out of the public class so that only the pool can settle. */
export type Settle = (result: AsyncResult<unknown>, ok: boolean, value: unknown) => void;
let settleResult: Settle;

/**
 * The eventual result of a task or a map. Await it directly, or use Python's methods.
 * @example
 * const r = pool.applyAsync(sqr, [7]);
 * await r.wait(100);          // waits up to 100 ms
 * if (r.ready() && r.successful()) console.log(await r.get()); // 49
 */
export class AsyncResult<T> implements PromiseLike<T> {
  #state: State = 'pending';
  #value: unknown = undefined;
  /** `wait(ms)` calls in progress; made on first use: most results are only awaited. */
  #waiters: (() => void)[] | undefined;
  #promise: Promise<T> | undefined;
  #resolvePromise: ((value: unknown) => void) | undefined;
  #rejectPromise: ((reason: unknown) => void) | undefined;
  // Stored without T, so that AsyncResult<T> stays covariant in T like a Promise.
  #callbacks: ResultCallbacks<unknown> | undefined;

  static {
    settleResult = (result, ok, value) => result.#settle(ok, value);
  }

  /** @internal Made by the pool. */
  constructor(callbacks?: ResultCallbacks<T>) {
    if (callbacks !== undefined) {
      if (callbacks.callback !== undefined && typeof callbacks.callback !== 'function') {
        throw new TypeError(`Expected \`callback\` to be a function, got \`${typeof callbacks.callback}\``);
      }
      if (callbacks.errorCallback !== undefined && typeof callbacks.errorCallback !== 'function') {
        throw new TypeError(`Expected \`errorCallback\` to be a function, got \`${typeof callbacks.errorCallback}\``);
      }
      this.#callbacks = callbacks as ResultCallbacks<unknown>;
    }
  }

  /** Whether the task has finished, successfully or not. */
  ready(): boolean {
    return this.#state !== 'pending';
  }

  /** Whether the task finished without error; throws `ResultNotReadyError` while pending. */
  successful(): boolean {
    if (this.#state === 'pending') throw new ResultNotReadyError('The result is not ready yet; wait() for it first');
    return this.#state === 'fulfilled';
  }

  /**
   * Resolves once the result is ready, or after `timeoutMs` milliseconds, whichever comes first.
   * Never rejects: check `ready()` afterwards. Default: no time limit.
   */
  wait(timeoutMs?: number): Promise<void> {
    checkTimeout(timeoutMs, 'timeoutMs');
    if (this.#state !== 'pending') return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
      const waiters = (this.#waiters ??= []);
      waiters.push(done);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const i = waiters.indexOf(done);
          if (i >= 0) waiters.splice(i, 1);
          resolve();
        }, timeoutMs);
      }
    });
  }

  /**
   * The value; rejects with the task's error, or with `TimeoutError` when `timeoutMs` passes
   * first (the task itself goes on). Default: no time limit.
   */
  get(timeoutMs?: number): Promise<T> {
    if (timeoutMs === undefined) return this.#settled();
    checkTimeout(timeoutMs, 'timeoutMs');
    return this.wait(timeoutMs).then(() => {
      if (this.#state === 'pending') throw new TimeoutError(`The result was not ready within ${timeoutMs} ms`);
      return this.#settled();
    });
  }

  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#settled().then(onfulfilled, onrejected);
  }

  /** One promise per result, made on first demand, so that a result nobody awaits costs none. */
  #settled(): Promise<T> {
    if (this.#promise === undefined) {
      if (this.#state === 'fulfilled') this.#promise = Promise.resolve(this.#value as T);
      else if (this.#state === 'rejected') this.#promise = Promise.reject(this.#value);
      else {
        this.#promise = new Promise<T>((resolve, reject) => {
          this.#resolvePromise = resolve as (value: unknown) => void;
          this.#rejectPromise = reject;
        });
      }
    }
    return this.#promise;
  }

  #settle(ok: boolean, value: unknown): void {
    if (this.#state !== 'pending') return;
    this.#state = ok ? 'fulfilled' : 'rejected';
    this.#value = value;
    const callbacks = this.#callbacks;
    this.#callbacks = undefined;
    try {
      if (ok) callbacks?.callback?.(value);
      else callbacks?.errorCallback?.(value);
    } catch (error) {
      // A throwing callback is the caller's bug: reported, rather than swallowed or leaving
      // waiters hanging.
      reportLater(error);
    }
    if (ok) this.#resolvePromise?.(value);
    else this.#rejectPromise?.(value);
    this.#resolvePromise = undefined;
    this.#rejectPromise = undefined;
    const waiters = this.#waiters;
    this.#waiters = undefined;
    if (waiters !== undefined) for (const wake of waiters) wake();
  }
}

/** Fulfils a pending result with a value. */
export function fulfil<T>(result: AsyncResult<T>, value: T): void {
  settleResult(result as AsyncResult<unknown>, true, value);
}

/** Rejects a pending result with an error. */
export function reject<T>(result: AsyncResult<T>, error: unknown): void {
  settleResult(result as AsyncResult<unknown>, false, error);
}
