/**
 * Errors cross the wire as plain data (`WireError`) and are rebuilt on the other side: built-in
 * classes come back as themselves, other errors as an `Error` with the same `name`; message, stack
 * (the worker's), cause, `AggregateError.errors` and own properties such as `code` are kept.
 *
 * Encoding runs in the worker, on whatever a task or an initializer threw, and never throws
 * itself: reading a thrown value can run its code (a getter, a Proxy's traps), and that code may
 * throw. Each part is read on its own; what cannot be read is left out or described instead, and
 * a value nothing can be read of becomes an `Error` saying what it was.
 */
import { isProxy } from 'node:util/types';
import {
  AbortError,
  ConnectionLostError,
  DataCloneError,
  InitializerError,
  PoolStateError,
  QueueFullError,
  ResultNotReadyError,
  ERROR_CLASS,
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
 * a pool on one machine raises. Known by the brand on their own prototype (ERROR_CLASS), which
 * every copy of mpool gives its classes, never by name: a task's own class that is also called
 * `TimeoutError` stays what it is, and so does a subclass of mpool's.
 */
type MakeError = (message: string, options: ErrorOptions | undefined) => Error;
const MPOOL_MAKERS: ReadonlyMap<string, MakeError> = new Map<string, MakeError>([
  ['AbortError', (message, options) => new AbortError(message, options)],
  ['ConnectionLostError', (message, options) => new ConnectionLostError(message, options)],
  ['DataCloneError', (message, options) => new DataCloneError(message, options)],
  ['InitializerError', (message, options) => new InitializerError(message, options)],
  ['PoolStateError', (message, options) => new PoolStateError(message, options)],
  ['QueueFullError', (message, options) => new QueueFullError(message, options)],
  ['ResultNotReadyError', (message, options) => new ResultNotReadyError(message, options)],
  ['TimeoutError', (message, options) => new TimeoutError(message, options)],
  // exitCode and signal come back with the error's own properties.
  ['WorkerCrashedError', (message, options) => new WorkerCrashedError(message, { code: null, signal: null }, options)],
]);

/** The name of the mpool class that made `error` (its own prototype's brand), if one of MPOOL_MAKERS did. */
function mpoolClassOf(error: Error): string | undefined {
  const proto: unknown = Object.getPrototypeOf(error);
  if (typeof proto !== 'object' || proto === null || !Object.prototype.hasOwnProperty.call(proto, ERROR_CLASS)) return undefined;
  const name: unknown = (proto as Record<symbol, unknown>)[ERROR_CLASS];
  return typeof name === 'string' && MPOOL_MAKERS.has(name) ? name : undefined;
}

/** Properties the codec carries itself; everything else own and enumerable travels in `props`. */
const CARRIED = new Set(['name', 'message', 'stack', 'cause', 'errors']);

/** A cause chain deeper than this is cut: it is almost surely a cycle. */
const MAX_CAUSE_DEPTH = 16;

/** What `read` returns, or `fallback` when reading throws. */
function attempt<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/** What cannot be read of a value that is read only to be described. */
const UNREADABLE = 'a value that could not be read either';

/**
 * An error's message, or any other value as text, read as safely as a thrown value is: for the
 * words of an error that mpool reports about it.
 */
export function safeMessage(value: unknown): string {
  return attempt(() => (isErrorLike(value) ? String(value.message) : String(value)), UNREADABLE);
}

/** Words for what a getter or a trap threw, when reading a part of an error failed. */
function describeFailure(failure: unknown): string {
  return attempt(() => (isErrorLike(failure) ? `${String(failure.name)}: ${String(failure.message)}` : String(failure)), UNREADABLE);
}

/** What kind of value `value` is, told running as little of its code as can be (and guarded). */
function kindOf(value: unknown): string {
  if (isProxy(value)) return 'a Proxy';
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${attempt(() => Object.prototype.toString.call(value).slice(8, -1), 'Object')})`;
  return `a ${typeof value}`;
}

/**
 * A copy of `value` that any backend can send (structured clone), or undefined when it has none.
 * The copy, not the value, goes on the wire: a getter read twice may not give the same thing.
 */
function copyOf(value: unknown): { value: unknown } | undefined {
  if (value === null || typeof value !== 'object') {
    return typeof value === 'function' || typeof value === 'symbol' ? undefined : { value };
  }
  try {
    return { value: structuredClone(value) };
  } catch {
    return undefined;
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
  return attempt(() => value instanceof Error || Object.prototype.toString.call(value) === '[object Error]', false);
}

/** An error that stands for a thrown value none of which could be read. */
function unreadable(thrown: unknown, failure: unknown): WireError {
  const message = `A value was thrown that could not be read: ${attempt(() => kindOf(thrown), 'unknown')} (reading it threw ${describeFailure(failure)})`;
  return { name: 'Error', message, stack: undefined, builtin: undefined, props: {} };
}

/** The error's own enumerable properties that can be read and copied, save those carried apart. */
function ownProps(error: Error): Record<string, unknown> {
  const props: Record<string, unknown> = {};
  for (const key of attempt(() => Object.keys(error), [] as string[])) {
    if (CARRIED.has(key)) continue;
    const copy = attempt(() => copyOf((error as unknown as Record<string, unknown>)[key]), undefined);
    if (copy !== undefined) Object.defineProperty(props, key, { value: copy.value, enumerable: true, writable: true, configurable: true });
  }
  return props;
}

function encodeError(thrown: Error, depth: number): WireError {
  const builtin = attempt(() => builtinName(thrown), undefined);
  let name: string;
  try {
    name = String(thrown.name);
  } catch {
    name = builtin ?? 'Error';
  }
  let message: string;
  try {
    message = String(thrown.message);
  } catch (failure) {
    message = `(the message of this error could not be read: reading it threw ${describeFailure(failure)})`;
  }
  const stack = attempt(() => {
    const value: unknown = thrown.stack;
    return typeof value === 'string' ? value : undefined;
  }, undefined);
  const record = thrown as Error & { cause?: unknown; errors?: unknown };
  // A cause or a list of errors that cannot be read is left out: the error comes back without it.
  const cause = depth < MAX_CAUSE_DEPTH ? attempt(() => ('cause' in record ? { thrown: record.cause } : undefined), undefined) : undefined;
  const errors = attempt(() => (thrown instanceof AggregateError && Array.isArray(record.errors)
    ? (record.errors as unknown[]).map((e) => encodeThrown(e, depth + 1))
    : undefined), undefined);
  return {
    name,
    message,
    stack,
    builtin,
    mpool: attempt(() => mpoolClassOf(thrown), undefined),
    props: ownProps(thrown),
    ...(cause !== undefined ? { cause: encodeThrown(cause.thrown, depth + 1) } : {}),
    ...(errors ? { errors } : {}),
  };
}

/**
 * Turns whatever a task threw into data that any backend can send. Never throws, whatever was
 * thrown (see the top of this file).
 */
export function encodeThrown(thrown: unknown, depth = 0): WireThrown {
  try {
    if (isErrorLike(thrown)) return { error: encodeError(thrown, depth) };
    const copy = copyOf(thrown);
    if (copy !== undefined) return copy;
    // Not copyable (a function, a symbol, an object holding one): its text, as before.
    return { value: String(thrown) };
  } catch (failure) {
    return { error: unreadable(thrown, failure) };
  }
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
  // Defined, not assigned: a property named `__proto__` must not replace the error's prototype.
  for (const [key, value] of Object.entries(data.props)) {
    Object.defineProperty(error, key, { value, enumerable: true, writable: true, configurable: true });
  }
  if (data.stack !== undefined) {
    Object.defineProperty(error, 'stack', { value: data.stack, enumerable: false, writable: true, configurable: true });
  }
  return error;
}
