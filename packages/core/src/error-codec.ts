/**
 * Errors cross the wire as plain data (`WireError`) and are rebuilt on the other side: built-in
 * classes come back as themselves, other errors as an `Error` with the same `name`; message, stack
 * (the worker's), cause, `AggregateError.errors` and own properties such as `code` are kept.
 */
import {
  AbortError,
  DataCloneError,
  InitializerError,
  ManagerClosedError,
  PoolStateError,
  ResultNotReadyError,
  TimeoutError,
  WorkerCrashedError,
} from './errors.js';
import type { WireError, WireThrown } from './wire.js';

const BUILTIN_ERRORS: Readonly<Record<string, ErrorConstructor>> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/**
 * mpool's own errors, rebuilt as themselves: a pool that relays tasks to other machines (the
 * 'bullmq' context) hands on its workers' `WorkerCrashedError` and `TimeoutError` as the classes
 * a pool on one machine raises. Matched by identity, never by name: a task's own class that is
 * also called `TimeoutError` stays what it is.
 */
type MakeError = (message: string, options: ErrorOptions | undefined) => Error;
const MPOOL_ERRORS: ReadonlyMap<object, readonly [name: string, make: MakeError]> = new Map<object, readonly [string, MakeError]>([
  [AbortError.prototype, ['AbortError', (message, options) => new AbortError(message, options)]],
  [DataCloneError.prototype, ['DataCloneError', (message, options) => new DataCloneError(message, options)]],
  [InitializerError.prototype, ['InitializerError', (message, options) => new InitializerError(message, options)]],
  [ManagerClosedError.prototype, ['ManagerClosedError', (message, options) => new ManagerClosedError(message, options)]],
  [PoolStateError.prototype, ['PoolStateError', (message, options) => new PoolStateError(message, options)]],
  [ResultNotReadyError.prototype, ['ResultNotReadyError', (message, options) => new ResultNotReadyError(message, options)]],
  [TimeoutError.prototype, ['TimeoutError', (message, options) => new TimeoutError(message, options)]],
  // exitCode and signal come back with the error's own properties.
  [WorkerCrashedError.prototype, ['WorkerCrashedError', (message, options) => new WorkerCrashedError(message, { code: null, signal: null }, options)]],
]);
const MPOOL_MAKERS = new Map([...MPOOL_ERRORS.values()]);

/** Properties the codec carries itself; everything else own and enumerable travels in `props`. */
const CARRIED = new Set(['name', 'message', 'stack', 'cause', 'errors']);

/** A cause chain deeper than this is cut: it is almost surely a cycle. */
const MAX_CAUSE_DEPTH = 16;

function isCopyable(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return typeof value !== 'function' && typeof value !== 'symbol';
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * The nearest built-in class in the error's prototype chain, by name: a `class HttpError extends
 * TypeError` comes back as a TypeError named HttpError. Names rather than identity, because an
 * error from a `vm` context is not `instanceof` this realm's classes.
 */
function builtinName(error: Error): string | undefined {
  for (let proto: unknown = Object.getPrototypeOf(error); proto !== null && typeof proto === 'object'; proto = Object.getPrototypeOf(proto)) {
    const ctor: unknown = Object.prototype.hasOwnProperty.call(proto, 'constructor') ? (proto as { constructor: unknown }).constructor : undefined;
    const name = typeof ctor === 'function' ? ctor.name : undefined;
    if (name === 'AggregateError' || (name !== undefined && name !== 'Error' && name in BUILTIN_ERRORS)) return name;
  }
  return undefined;
}

function isErrorLike(value: unknown): value is Error {
  return value instanceof Error || Object.prototype.toString.call(value) === '[object Error]';
}

/** Turns whatever a task threw into data that any backend can send. */
export function encodeThrown(thrown: unknown, depth = 0): WireThrown {
  if (!isErrorLike(thrown)) {
    return isCopyable(thrown) ? { value: thrown } : { value: String(thrown) };
  }
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(thrown)) {
    if (CARRIED.has(key)) continue;
    const value: unknown = (thrown as unknown as Record<string, unknown>)[key];
    if (isCopyable(value)) props[key] = value;
  }
  const record = thrown as Error & { cause?: unknown; errors?: unknown };
  const hasCause = 'cause' in record && depth < MAX_CAUSE_DEPTH;
  const errors = thrown instanceof AggregateError && Array.isArray(record.errors)
    ? (record.errors as unknown[]).map((e) => encodeThrown(e, depth + 1))
    : undefined;
  const error: WireError = {
    name: String(thrown.name),
    message: String(thrown.message),
    stack: typeof thrown.stack === 'string' ? thrown.stack : undefined,
    builtin: builtinName(thrown),
    mpool: MPOOL_ERRORS.get(Object.getPrototypeOf(thrown) as object)?.[0],
    props,
    ...(hasCause ? { cause: encodeThrown(record.cause, depth + 1) } : {}),
    ...(errors ? { errors } : {}),
  };
  return { error };
}

/** Rebuilds a thrown value sent by `encodeThrown`. */
export function decodeThrown(wire: WireThrown): unknown {
  if (!('error' in wire)) return wire.value;
  const data = wire.error;
  const options: ErrorOptions | undefined = data.cause === undefined ? undefined : { cause: decodeThrown(data.cause) };
  let error: Error;
  const own = data.mpool === undefined ? undefined : MPOOL_MAKERS.get(data.mpool)?.(data.message, options);
  if (own !== undefined) {
    error = own;
  } else if (data.builtin === 'AggregateError') {
    error = new AggregateError((data.errors ?? []).map(decodeThrown), data.message, options);
  } else {
    const Ctor = (data.builtin !== undefined && BUILTIN_ERRORS[data.builtin]) || Error;
    error = new Ctor(data.message, options);
  }
  if (error.name !== data.name) {
    Object.defineProperty(error, 'name', { value: data.name, enumerable: false, writable: true, configurable: true });
  }
  Object.assign(error, data.props);
  if (data.stack !== undefined) {
    Object.defineProperty(error, 'stack', { value: data.stack, enumerable: false, writable: true, configurable: true });
  }
  return error;
}
