/**
 * TypeScript task modules in workers. A program run by `tsx main.ts` or `node --import tsx
 * main.ts` loads `.ts` files through tsx's hooks; its workers have them only when given them:
 *
 *   'fork'                inherits the parent's execArgv, tsx's flags among them
 *   'spawn', 'forkserver' get tsx's flags and nothing else of the parent's (`execArgv` below)
 *   'thread'              inherits the flags, and registers tsx's hooks itself where they do
 *                         not reach a Worker, as on Node 20 (`packageJson` below, and
 *                         worker/typescript.ts)
 *
 * tsx is found in the parent's execArgv, where either way of running it puts it: `--import tsx`
 * as written, or the `tsx` command's `--require …/tsx/dist/preflight.cjs --import
 * file:///…/tsx/dist/loader.mjs`; or in NODE_OPTIONS.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** How the parent loads TypeScript, for its workers to do the same. */
export interface TypeScriptLoader {
  /**
   * The flags that load tsx, each module resolved to an absolute location (so that a worker
   * finds it from any working directory): what a `'spawn'` worker gets of the parent's execArgv.
   */
  readonly execArgv: readonly string[];
  /** tsx's package.json, from which a worker thread requires tsx's `register()` APIs. */
  readonly packageJson: string;
}

/** Node flags that load a module before the program: the ways a loader is put in execArgv. */
const PRELOAD_FLAGS = new Map([
  ['--import', '--import'],
  ['--require', '--require'],
  ['-r', '--require'],
  ['--loader', '--loader'],
  ['--experimental-loader', '--experimental-loader'],
]);

/** The package whose hooks mpool knows how to hand on to workers. */
const LOADER_PACKAGE = 'tsx';

/**
 * tsx's preflight, which the `tsx` command preloads, relays the program's signals to the command;
 * for a worker process that would be wrong (its SIGTERM is the pool's, not the user's), and the
 * loader does not need it.
 */
const NOT_FOR_WORKERS = /[\\/]preflight\.[cm]?js$/;

/** A module that an option of execArgv loads before the program. */
interface Preload {
  readonly flag: string;
  readonly specifier: string;
}

/** The preloads of `execArgv`, in order, each flag in its long form. */
function preloads(execArgv: readonly string[]): Preload[] {
  const out: Preload[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i];
    const eq = arg.indexOf('=');
    const flag = PRELOAD_FLAGS.get(eq === -1 ? arg : arg.slice(0, eq));
    if (flag === undefined) continue;
    if (eq !== -1) out.push({ flag, specifier: arg.slice(eq + 1) });
    else if (i + 1 < execArgv.length) out.push({ flag, specifier: execArgv[++i] });
  }
  return out;
}

/** The file a preload names, as Node finds it from `cwd`; undefined when it cannot be found. */
function resolvePreload(specifier: string, cwd: string): string | undefined {
  try {
    if (specifier.startsWith('file:')) return fileURLToPath(specifier);
    if (isAbsolute(specifier) || specifier.startsWith('.')) return resolve(cwd, specifier);
    return createRequire(join(cwd, '__mpool_loader__.js')).resolve(specifier);
  } catch {
    return undefined;
  }
}

/** The package.json of the package `file` belongs to, when that package is `name`. */
function owningPackage(file: string, name: string): string | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        const found = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name;
        // A package.json without a name only sets "type" for its folder: look further up.
        if (typeof found === 'string') return found === name ? manifest : undefined;
      } catch {
        return undefined;
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** Finds tsx among the preloads of `execArgv`; undefined when the program runs without it. */
export function findTypeScriptLoader(execArgv: readonly string[], cwd: string): TypeScriptLoader | undefined {
  const loaderArgs: string[] = [];
  let packageJson: string | undefined;
  for (const preload of preloads(execArgv)) {
    const file = resolvePreload(preload.specifier, cwd);
    const manifest = file === undefined ? undefined : owningPackage(file, LOADER_PACKAGE);
    if (file === undefined || manifest === undefined) continue;
    packageJson ??= manifest;
    if (NOT_FOR_WORKERS.test(file)) continue;
    loaderArgs.push(preload.flag, preload.flag === '--require' ? file : pathToFileURL(file).href);
  }
  return packageJson === undefined ? undefined : { execArgv: loaderArgs, packageJson };
}

let current: { loader: TypeScriptLoader | undefined } | undefined;

/**
 * How this process loads TypeScript (its execArgv does not change, so this is worked out once);
 * undefined when it does not run under tsx. tsx may come from NODE_OPTIONS too
 * (`NODE_OPTIONS='--import tsx'`): child processes have that by their environment, so only
 * threads need to hear of it.
 */
export function typeScriptLoader(): TypeScriptLoader | undefined {
  if (current === undefined) {
    const cwd = process.cwd();
    const fromArgv = findTypeScriptLoader(process.execArgv, cwd);
    const fromOptions = findTypeScriptLoader((process.env.NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean), cwd);
    const packageJson = fromArgv?.packageJson ?? fromOptions?.packageJson;
    current = { loader: packageJson === undefined ? undefined : { execArgv: fromArgv?.execArgv ?? [], packageJson } };
  }
  return current.loader;
}
