/**
 * The pool's `workerData`, as each worker holds it. It lives in one slot of the worker's global
 * object, named by a registered symbol: a task module that loads its own copy of mpool (another
 * version, or another path to it) reads the same slot as the run loop that wrote it.
 */

/** The slot's key: the same symbol in every copy of mpool a worker loads. */
const WORKER_DATA = Symbol.for('mpool.workerData');

type Holder = { [WORKER_DATA]?: unknown };

/**
 * The `workerData` the pool was given, as its worker received it (a copy): readable from the
 * initializer and from every task. Outside a pool's worker, or when the pool was given none, it
 * is `undefined`. The type is the caller's word for it; nothing checks it.
 * @example
 * // main.js: new Pool({ workerData: { greeting: 'hello' } })
 * // tasks.js:
 * import { getWorkerData } from '@mpool/pool';
 * export function greet(name) {
 *   return `${getWorkerData().greeting}, ${name}`; // 'hello, …'
 * }
 */
export function getWorkerData<T = unknown>(): T {
  return (globalThis as Holder)[WORKER_DATA] as T;
}

/** Called by the run loop before the initializer: what getWorkerData() returns from then on. */
export function setWorkerData(data: unknown): void {
  (globalThis as Holder)[WORKER_DATA] = data;
}
