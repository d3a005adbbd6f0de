/**
 * The wire protocol shared by every backend. Messages are flat arrays whose first element is the
 * message kind: arrays clone faster than objects with keys, and a batch of N tasks or results
 * travels as one message of 2 + 3N elements (a RESULTS batch of 2 + 2N) rather than N messages.
 *
 *   pool → worker   [RUN, defs | 0, fnId, mode, payload, fnId, mode, payload, …]
 *                   [STOP]                       finish what was sent, then exit
 *                   [PLUGINS, [module, …]]       plugins registered since the worker heard of
 *                                                the others, before the next RUN (see plugins.ts)
 *   either way      [SIDE, plugin, id, data]     a plugin's frame on its side channel (plugins.ts)
 *   worker → pool   [INITIALIZING]               the initializer is about to load and run (only
 *                                                sent when there is one): its time starts
 *                   [READY]                      module loader and initializer are done
 *                   [INIT_FAILED, WireThrown]    the initializer threw
 *                   [RESULTS, busyMs, status, value, status, value, …]
 *
 * A worker runs what it is sent in order, one task at a time, so results come back in the order
 * the tasks went out: neither side needs task ids.
 *
 * Each payload, and each result, is written by the backend's payload codec (codec.ts): as it is
 * (structured clone), or, for the packed numbers codec, a chunk's long array of numbers as the
 * bytes of a Float64Array (numbers.ts); a chunk is always an array otherwise, so the receiver
 * knows one from the other.
 */

export const enum MessageKind {
  Run = 1,
  Stop = 2,
  Ready = 3,
  InitFailed = 4,
  Results = 5,
  Side = 6,
  Initializing = 7,
  Plugins = 8,
}

/** How a task's payload is applied to its function. */
export const enum RunMode {
  /** payload is the argument list: `fn(...payload)`. */
  Apply = 0,
  /** payload is a chunk of items (or a packed Float64Array of them): `[fn(item) for item in payload]`. */
  Map = 1,
  /** payload is a chunk of argument lists: `[fn(...args) for args in payload]`. */
  Starmap = 2,
}

export const enum ResultStatus {
  /** value is the result (for a chunk: the array of results). */
  Ok = 0,
  /** value is a `WireThrown`. */
  Threw = 1,
  /** value is a `ChunkFailure`: the chunk stopped at one item. */
  ChunkThrew = 2,
  /** value is a message: the result could not be copied back to the pool. */
  Uncloneable = 3,
}

/** Where a function lives: a module export, or the source text of a self-contained function. */
export type FnSpec =
  | { readonly kind: 'module'; readonly module: string; readonly exportName: string }
  | { readonly kind: 'source'; readonly source: string; readonly label: string };

/** A function definition sent once per worker, before the first task that uses it. */
export type FnDef = readonly [fnId: number, spec: FnSpec];

/** A serialised error: everything of it that survives a copy to another thread or process. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** The built-in constructor to rebuild with (`TypeError`, …), when the error was one. */
  readonly builtin: string | undefined;
  /** mpool's own error class (`WorkerCrashedError`, …), when the error was an instance of one. */
  readonly mpool?: string;
  readonly cause?: WireThrown;
  /** `AggregateError.errors`. */
  readonly errors?: readonly WireThrown[];
  /** Own enumerable properties that can be copied, such as `code` or `errno`. */
  readonly props: Readonly<Record<string, unknown>>;
}

/** Whatever a task threw: an error, or any other value (`throw 'oops'`). */
export type WireThrown = { readonly error: WireError } | { readonly value: unknown };

/** A chunk that failed at item `index`, with the results of the items before it. */
export type ChunkFailure = readonly [index: number, before: readonly unknown[], thrown: WireThrown];

/** What a worker is given when it starts. */
export interface WorkerInit {
  readonly initializer: FnSpec | undefined;
  readonly initargs: readonly unknown[];
  /** The worker modules of the plugins registered when it started (see plugins.ts); none when absent. */
  readonly plugins?: readonly string[];
  /** The pool's `workerData`, which the worker's code reads with `getWorkerData()` (worker-data.ts). */
  readonly workerData?: unknown;
}
