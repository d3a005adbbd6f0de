/**
 * A worker thread's TypeScript: tsx's hooks, registered from inside the thread. On Node 20 a
 * Worker runs no `--import` hooks of its own (tsx registers them on the main thread only), so the
 * pool tells the thread where the parent's tsx is (typescript-loader.ts), and the thread registers
 * both of tsx's hooks before it loads its first module, unless it can load TypeScript already: the
 * ESM one for `import()` of `.ts` and `.mts`, the CommonJS one for `.cts` files and `.ts` files
 * that are CommonJS (no `"type": "module"` above them).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** tsx's APIs whose `register()` installs its hooks in the calling thread. */
const REGISTER_APIS = ['./esm/api', './cjs/api'];

interface Registrable {
  register(): unknown;
}

/**
 * The file an `exports` entry gives to `import`. Read by hand because this module is CommonJS:
 * `require.resolve` would pick the `require` builds, and tsx's CommonJS build of `esm/api`
 * registers hooks that it then cannot find.
 */
function importTarget(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (typeof entry !== 'object' || entry === null) return undefined;
  const conditions = entry as Record<string, unknown>;
  return importTarget(conditions.import) ?? importTarget(conditions.default);
}

/**
 * A module of mpool's that only a thread that loads TypeScript as tsx does can import. Where
 * tsx's `--import` reaches worker threads (newer Node versions), it has registered its hooks
 * already, and registering them again would transform every module twice. Found in @mpool/core's
 * package, by its name: this file runs bundled into the thread backend's (and the process
 * backend's) worker, away from it.
 */
function probeUrl(): string {
  return pathToFileURL(join(dirname(require.resolve('@mpool/core')), '..', 'assets', 'typescript-probe.mts')).href;
}

/** tsx's package.json, when this worker may register it; and the registration, once begun. */
let loader: string | undefined;
let registered: Promise<void> | undefined;

/**
 * Lets this thread register the tsx whose package.json is `packageJson`, which it does before it
 * loads its first module (`typeScriptReady`).
 */
export function useTypeScript(packageJson: string): void {
  loader = packageJson;
}

/** Resolves once this thread can load TypeScript, when it was given tsx; at once otherwise. */
export function typeScriptReady(): Promise<void> {
  const packageJson = loader;
  if (packageJson === undefined) return Promise.resolve();
  registered ??= import(probeUrl()).then(
    () => undefined,
    () => registerTypeScript(packageJson),
  );
  return registered;
}

/** Registers tsx's hooks in this thread, from the tsx whose package.json is `packageJson`. */
async function registerTypeScript(packageJson: string): Promise<void> {
  try {
    const { exports } = JSON.parse(readFileSync(packageJson, 'utf8')) as { exports?: Record<string, unknown> };
    for (const api of REGISTER_APIS) {
      const target = importTarget(exports?.[api]);
      if (target === undefined) throw new Error(`its package.json exports no ${api}`);
      const module = (await import(pathToFileURL(join(dirname(packageJson), target)).href)) as Registrable;
      module.register();
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`mpool could not register tsx (${packageJson}) in a worker thread: ${reason}`, { cause: error });
  }
}
