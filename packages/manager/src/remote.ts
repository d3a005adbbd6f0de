/**
 * The type of a shared object as a task sees it: the comlink proxy a worker gets, where every
 * call and every property read is async. Written out here rather than re-exported from comlink,
 * whose declarations name the DOM's `MessagePort` and `Transferable`: a program compiled without
 * the DOM lib (as Node programs are) and with `skipLibCheck: false` could not check them.
 */

/** A call through the proxy: the same arguments, the result once awaited, always a promise. */
type RemoteCall<T> = T extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : unknown;

/** Properties through the proxy: methods become remote calls, values come as promises. */
type RemoteObject<T> = {
  readonly [K in keyof T]: T[K] extends (...args: never[]) => unknown ? Remote<T[K]> : Promise<Awaited<T[K]>>;
};

/**
 * `T` seen through a worker's proxy: `await remote.method(x)`, `await remote.value`, and for a
 * shared function, `await remote(x)`.
 * @example
 * // in a task given `log = manager.share((line: string) => console.log(line))`:
 * await log('half way'); // log: Remote<(line: string) => void>
 */
export type Remote<T> = RemoteObject<T> & RemoteCall<T>;
