/**
 * What a pool runs: a reference to an exported function (`task(module, exportName)`), or a plain
 * self-contained function sent to the worker as source text.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FnSpec } from './wire.js';

/** Any function a worker can run. Its parameters and result type the pool's methods. */
export type TaskFunction = (...args: never[]) => unknown;

/** A typed reference to `exportName` of `module`; made by {@link task}. */
export interface TaskRef<F extends TaskFunction = TaskFunction> {
  /** The module's URL (`file:` or `data:`), as the worker will `import()` it. */
  readonly module: string;
  /** The export to call; `'default'` for the default export. */
  readonly exportName: string;
  /** Carries `F` for type inference only; never set. */
  readonly __signature?: F;
}

/**
 * Anything a pool accepts as a task: a {@link TaskRef}, or a plain self-contained function.
 *
 * A plain function is sent as its source text and rebuilt in the worker, so it may not use
 * closures (variables from outside its own body), imports or `this`; use `require`/`import()`
 * inside its body, or a `task()` reference, for anything else.
 */
export type Task<F extends TaskFunction = TaskFunction> = TaskRef<F> | F;

/** The arguments of a task's function. */
export type TaskArgs<F extends TaskFunction> = Parameters<F>;
/** What a task's function returns, once awaited. */
export type TaskResult<F extends TaskFunction> = Awaited<ReturnType<F>>;

const SENDABLE_URL_SCHEMES = new Set(['file:', 'data:']);

/** Turns a module given as a path, a URL string or a `URL` into the URL a worker imports. */
export function moduleUrl(module: string | URL): string {
  if (module instanceof URL) {
    if (!SENDABLE_URL_SCHEMES.has(module.protocol)) {
      throw new TypeError(`Expected a file: or data: URL for the task module, got \`${module.href}\``);
    }
    return module.href;
  }
  if (typeof module !== 'string' || module.length === 0) {
    throw new TypeError(`Expected the task module as a path, a file URL or a URL object, got \`${describe(module)}\``);
  }
  if (/^(file|data):/.test(module)) return new URL(module).href;
  // Relative paths resolve against the working directory, as Node's `Worker` does.
  return pathToFileURL(isAbsolute(module) ? module : resolve(module)).href;
}

/**
 * A typed reference to an exported function, to pass to any pool method.
 *
 * @param module the module: a path (relative ones resolve against `process.cwd()`), a file URL
 *   string, or a `URL` such as `new URL('./tasks.js', import.meta.url)`.
 * @param exportName the export to call; default `'default'`.
 * @example
 * const sqr = task<(x: number) => number>(new URL('./tasks.js', import.meta.url), 'sqr');
 * await pool.apply(sqr, [5]); // 25
 */
export function task<F extends TaskFunction = TaskFunction>(module: string | URL, exportName = 'default'): TaskRef<F> {
  if (typeof exportName !== 'string' || exportName.length === 0) {
    throw new TypeError(`Expected \`exportName\` to be a non-empty string, got \`${describe(exportName)}\``);
  }
  return Object.freeze({ module: moduleUrl(module), exportName });
}

/** A short description of a value for error messages: its type and, for primitives, itself. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
  return String(value);
}

function isTaskRef(value: unknown): value is TaskRef {
  return typeof value === 'object' && value !== null
    && typeof (value as TaskRef).module === 'string' && typeof (value as TaskRef).exportName === 'string';
}

/** The source of a plain function, checked to be an expression the worker can rebuild. */
function sourceSpec(fn: TaskFunction): FnSpec {
  const source = Function.prototype.toString.call(fn);
  const label = fn.name || '<anonymous>';
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw new TypeError(`Task function ${label} is native or bound and has no source to send; export it from a module and use task()`);
  }
  try {
    // Compiles without running: proves the worker can rebuild it (a method shorthand cannot).
    new Function(`return (${source}\n);`);
  } catch {
    throw new TypeError(`Task function ${label} cannot be rebuilt from its source (a method or accessor?); write it as a function expression or use task()`);
  }
  return { kind: 'source', source, label };
}

/** One function known to a pool, with the id its workers know it by. */
export interface FnEntry {
  readonly id: number;
  readonly spec: FnSpec;
}

/**
 * Gives each distinct function a small id, so that a function's module or source crosses to a
 * worker once and each task names it by number.
 */
export class FnRegistry {
  readonly #byFunction = new WeakMap<object, FnEntry>();
  readonly #byKey = new Map<string, FnEntry>();
  #nextId = 0;

  /** The entry for `fn`; throws `TypeError` for something that is not a task. */
  lookup(fn: unknown): FnEntry {
    if ((typeof fn === 'function' || typeof fn === 'object') && fn !== null) {
      const known = this.#byFunction.get(fn);
      if (known !== undefined) return known;
    }
    let spec: FnSpec;
    if (typeof fn === 'function') spec = sourceSpec(fn as TaskFunction);
    else if (isTaskRef(fn)) spec = { kind: 'module', module: fn.module, exportName: fn.exportName };
    else throw new TypeError(`Expected a task (a function, or a reference made by task()), got \`${describe(fn)}\``);
    const entry = this.forSpec(spec);
    this.#byFunction.set(fn as object, entry);
    return entry;
  }

  /** The entry for a function already described as it travels (a relayed task's). */
  forSpec(spec: FnSpec): FnEntry {
    const key = spec.kind === 'module' ? `m:${spec.module}#${spec.exportName}` : `s:${spec.source}`;
    let entry = this.#byKey.get(key);
    if (entry === undefined) {
      entry = { id: this.#nextId++, spec };
      this.#byKey.set(key, entry);
    }
    return entry;
  }
}
