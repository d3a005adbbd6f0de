/**
 * How a worker gets a task's function: a module's export, loaded with `import()` (TypeScript
 * through tsx when the pool's program runs under it), or a plain function rebuilt from its source.
 * When that fails, or a rebuilt function fails for want of its closure, the error says what the
 * user can do about it, and not where in mpool it happened.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FnSpec } from '../wire.js';
import { typeScriptReady } from './typescript.js';

/** A task's function as the worker calls it: its arguments and result are the wire's. */
export type Callable = (...args: unknown[]) => unknown;

/** Plain functions are rebuilt with a `require` that resolves from the working directory. */
const sourceRequire = createRequire(join(process.cwd(), '__mpool_task__.js'));

/** Extensions of modules that Node loads only through a TypeScript loader (on Node 20). */
const TYPESCRIPT_MODULE = /\.(?:[cm]?ts|tsx)$/;

/** What the stack frames of a function rebuilt from its source name as their file. */
const INLINE_TASK_URL = 'mpool-inline-task';

/**
 * mpool's compiled code: frames in it are mpool's, not the user's. The package above this file's
 * directory: @mpool/core, or, in a worker, @mpool/threads or @mpool/processes, whose dist holds
 * the bundle of this run loop (scripts/bundle-workers.mjs, at the workspace's root).
 */
const MPOOL_CORE = dirname(__dirname);

/** `error`, with `props`, its stack only its header: the message says it all, mpool's frames nothing. */
function withoutFrames<E extends Error>(error: E, props: Record<string, unknown> = {}): E {
  Object.assign(error, props);
  Object.defineProperty(error, 'stack', { value: `${error.name}: ${error.message}`, writable: true, configurable: true });
  return error;
}

/** The path of a module URL, for messages (a data: URL stays as it is). */
function displayPath(url: string): string {
  try {
    return url.startsWith('file:') ? fileURLToPath(url) : url;
  } catch {
    return url;
  }
}

function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

/** A failed `import()` of a task module, said in terms of what the user wrote. */
function explainImportFailure(url: string, error: unknown): unknown {
  const path = displayPath(url);
  const code = codeOf(error);
  if (code === 'ERR_MODULE_NOT_FOUND' && url.startsWith('file:') && !existsSync(path)) {
    return withoutFrames(
      new Error(
        `Cannot find the task module ${path}. A relative path given to task() resolves against the working directory (${process.cwd()}), ` +
          "not against the file that calls it: for a module beside your code, pass new URL('./tasks.js', import.meta.url) or path.join(__dirname, 'tasks.js').",
      ),
      { code },
    );
  }
  const unknown = code === 'ERR_UNKNOWN_FILE_EXTENSION' && error instanceof Error ? /for (.+)$/.exec(error.message)?.[1] : undefined;
  if (unknown !== undefined && TYPESCRIPT_MODULE.test(unknown)) {
    const which = unknown === path ? `the task module ${path}` : `${unknown} (imported by the task module ${path})`;
    return withoutFrames(
      new TypeError(
        `Cannot load ${which}: it is TypeScript, which this Node runs only through a loader. Run your program under tsx ` +
          '(`tsx main.ts`, or `node --import tsx main.js`), which mpool hands on to its workers, or compile the module and give task() the .js file.',
      ),
      { code },
    );
  }
  return error;
}

/** The names a module exports, CommonJS ones on its default export included. */
function exportNames(ns: Record<string, unknown>): string[] {
  const names = new Set(Object.keys(ns));
  const cjs = ns.default;
  if ((typeof cjs === 'object' || typeof cjs === 'function') && cjs !== null) {
    for (const key of Object.keys(cjs)) names.add(key);
  }
  return [...names];
}

async function importModule(url: string): Promise<Record<string, unknown>> {
  // Under tsx, its hooks go in before the first module, whatever its extension: a JavaScript
  // module may import TypeScript, and a module that failed to load is never tried again. Inline
  // functions do not pay for them (about 0.2 s a worker thread).
  await typeScriptReady();
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw explainImportFailure(url, error);
  }
}

/** Loads the function `spec` names; rejects with an error that says what to change. */
export async function loadFunction(spec: FnSpec): Promise<Callable> {
  if (spec.kind === 'source') {
    // Named, so that its frames in a stack say what they are (not "eval at loadFunction").
    const build = new Function('require', `return (${spec.source}\n);\n//# sourceURL=${INLINE_TASK_URL}`) as (req: NodeJS.Require) => unknown;
    const fn = build(sourceRequire);
    if (typeof fn !== 'function') throw new TypeError(`Task ${spec.label} did not rebuild into a function`);
    return fn as Callable;
  }
  const ns = await importModule(spec.module);
  let fn = ns[spec.exportName];
  // A CommonJS module whose named exports Node could not detect still has them on `default`.
  if (fn === undefined && spec.exportName !== 'default') {
    const cjs = ns.default;
    if ((typeof cjs === 'object' || typeof cjs === 'function') && cjs !== null) fn = (cjs as Record<string, unknown>)[spec.exportName];
  }
  if (typeof fn !== 'function') {
    const names = exportNames(ns);
    throw withoutFrames(
      new TypeError(
        `Export \`${spec.exportName}\` of ${displayPath(spec.module)} is not a function (got ${fn === null ? 'null' : typeof fn}); ` +
          (names.length === 0 ? 'the module exports nothing' : `the module exports: ${names.join(', ')}`),
      ),
    );
  }
  return fn as Callable;
}

/** The frames of `stack` before the first of mpool's own (the user's code calls nothing of mpool). */
function userFrames(stack: string | undefined): string[] {
  const frames = (stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  const end = frames.findIndex((line) => line.includes(MPOOL_CORE));
  return end === -1 ? frames : frames.slice(0, end);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * What a task threw, explained where mpool knows more than the error does: a function rebuilt
 * from its source that used a variable from outside its body gets a ReferenceError saying so
 * (still a ReferenceError, the original as its `cause`). Anything else is returned as it is.
 */
export function explainThrown(spec: FnSpec | undefined, thrown: unknown): unknown {
  // A thrown value may be hostile (a Proxy whose traps throw, a getter that throws): reading it
  // here must never fail, so anything odd is passed on untouched for the error codec to describe.
  try {
    return explainReference(spec, thrown);
  } catch {
    return thrown;
  }
}

function explainReference(spec: FnSpec | undefined, thrown: unknown): unknown {
  if (spec?.kind !== 'source' || !(thrown instanceof ReferenceError)) return thrown;
  const name = /^(\S+) is not defined$/.exec(thrown.message)?.[1];
  const frames = userFrames(thrown.stack);
  // Only when the rebuilt function itself named the variable, not code it called.
  if (name === undefined || !frames[0]?.includes(`(${INLINE_TASK_URL}:`) || !new RegExp(`(^|[^\\w$])${escapeRegExp(name)}([^\\w$]|$)`).test(spec.source)) return thrown;
  const error = new ReferenceError(
    `${thrown.message} in ${spec.label === '<anonymous>' ? 'an inline task function' : `the inline task function ${spec.label}`}: a function given to the pool travels to the worker as its source text, ` +
      `so it cannot use variables from outside its own body (closures). Pass ${name} as an argument, require() it inside the function, ` +
      'or export the function from a module and use task().',
    { cause: thrown },
  );
  Object.defineProperty(error, 'stack', { value: [`ReferenceError: ${error.message}`, ...frames].join('\n'), writable: true, configurable: true });
  return error;
}
