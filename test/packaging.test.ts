/**
 * mpool as users get it: every package packed by pnpm (which writes real versions in place of
 * `workspace:*`), installed by npm into an empty project, and used from an ES module, a CommonJS
 * script and TypeScript checked without `skipLibCheck`, with and without the DOM lib, under
 * `nodenext` and `node10` resolution, `@mpool/pool/transfer` included. The README's first example
 * runs as written.
 *
 * One pack and one install serve every test (about 20 s in all on 2 cores, most of it npm and tsc).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const ROOT = join(__dirname, '..');
const PNPM = ['-y', 'pnpm@12.4.2'];
const TSC = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
const TSX = require.resolve('tsx/cli', { paths: [ROOT] });
/** The @types/node the workspace builds against, installed into the project at the same version. */
const TYPES_NODE = (JSON.parse(readFileSync(require.resolve('@types/node/package.json', { paths: [ROOT] }), 'utf8')) as { version: string }).version;

/** Packing, installing and a cold tsc can be slow on a busy machine; each step is bounded. */
const STEP_LIMIT_MS = 180_000;
const PROGRAM_LIMIT_MS = 60_000;
/** npm and tsc can print a lot when they fail; all of it goes into the failure's message. */
const OUTPUT_LIMIT_BYTES = 16 * 1024 * 1024;

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  homepage?: string;
  bugs?: { url?: string };
  repository?: { type?: string; url?: string; directory?: string };
  files?: string[];
  dependencies?: Record<string, string>;
}

/** The workspace's publishable packages: every non-private package under packages/. */
const PACKAGES = readdirSync(join(ROOT, 'packages'))
  .filter((dir) => existsSync(join(ROOT, 'packages', dir, 'package.json')))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as Manifest }))
  .filter(({ manifest }) => manifest.private !== true);

/** Runs a command; rejects with its output when it fails. */
async function run(file: string, args: string[], cwd: string, timeout = PROGRAM_LIMIT_MS): Promise<string> {
  try {
    const { stdout } = await execFileAsync(file, args, { cwd, timeout, maxBuffer: OUTPUT_LIMIT_BYTES });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${[file, ...args].join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error });
  }
}

/** The files of a tarball, as `tar` lists them (each under `package/`). */
async function tarballFiles(tarball: string): Promise<string[]> {
  return (await run('tar', ['-tzf', tarball], ROOT)).split('\n').filter(Boolean);
}

async function tarballText(tarball: string, path: string): Promise<string> {
  return run('tar', ['-xzOf', tarball, `package/${path}`], ROOT);
}

/** The code blocks of the README's "A first program" that open with `// <file name>`, by name. */
function readmeExample(): Map<string, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## A first program');
  if (start === -1) throw new Error('README.md has no "## A first program" section to run');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const files = new Map<string, string>();
  for (const [, body] of section.matchAll(/```[a-z]*\n([\s\S]*?)```/g)) {
    const name = /^\/\/ ([\w-]+\.[cm]?[jt]s)\n/.exec(body)?.[1];
    if (name !== undefined) files.set(name, body);
  }
  return files;
}

/** A CommonJS user: require(), a task module and an inline function, apply and map. */
const COMMONJS_PROGRAM = `
const { join } = require('node:path');
const { Pool, task, getContext } = require('@mpool/pool');
const { transfer } = require('@mpool/pool/transfer');

const sqr = task(join(__dirname, 'tasks.mjs'), 'sqr');

async function main() {
  for (const pool of [new Pool(2), getContext('spawn').Pool(2)]) {
    try {
      const view = new Float64Array(3);
      const moved = await pool.apply((v) => v.length, [transfer(view, [view.buffer])]);
      console.log(pool.context, await pool.apply(sqr, [6]), JSON.stringify(await pool.map((x) => x + 1, [1, 2, 3])), moved, view.byteLength);
    } finally {
      await pool.terminate();
    }
  }
}
main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;

/** What a TypeScript user of either module system writes against mpool's types. */
const TYPED_BODY = `
const sqr: TaskRef<(x: number) => number> = task(join(__dirname, 'tasks.mjs'), 'sqr');

export async function use(): Promise<void> {
  const pool = new Pool({ processes: 2, context: 'auto' });
  const manager = new Manager();
  try {
    const one: number = await pool.apply(sqr, [5]);
    const many: number[] = await pool.map(sqr, [1, 2, 3], { chunksize: 2 });
    const result: AsyncResult<string> = pool.applyAsync((s: string) => s.toUpperCase(), ['x']);
    const counter = manager.value(0);
    await counter.set((await counter.get()) + one + many.length + (await result).length);
    const log: Shared<(line: string) => void> = manager.share((line: string) => console.log(line));
    void log;
  } finally {
    await pool.terminate();
    await manager.close();
  }
}

export const isMpoolError = (error: unknown): boolean => error instanceof PoolStateError || error instanceof MpoolError;

export async function reached(remote: Remote<{ total(n: number): number; label: string }>): Promise<string> {
  const total: number = await remote.total(3);
  return \`\${await remote.label} \${total}\`;
}

export async function moved(pool: Pool): Promise<number> {
  const view = new Float64Array(8);
  const back: Float64Array = await pool.apply((v: Float64Array) => v, [transfer(view, [view.buffer])]);
  const fromTask: number = markForReturn(back.length, []);
  return fromTask;
}

export async function wrongArgumentsDoNotCompile(pool: Pool): Promise<void> {
  // @ts-expect-error a string where the task takes a number
  await pool.apply(sqr, ['6']);
}
`;
const TYPED_IMPORTS = "{ Manager, MpoolError, Pool, PoolStateError, task, transfer, type AsyncResult, type Remote, type Shared, type TaskRef } from '@mpool/pool';\nimport { transfer as markForReturn } from '@mpool/pool/transfer'";
const TYPED_ESM = `import { dirname, join } from 'node:path';\nimport { fileURLToPath } from 'node:url';\nimport ${TYPED_IMPORTS};\n\nconst __dirname = dirname(fileURLToPath(import.meta.url));\n${TYPED_BODY}`;
const TYPED_CJS = `import { join } from 'node:path';\nimport ${TYPED_IMPORTS};\n${TYPED_BODY}`;

/** The type-checking setups: module system and resolution, with and without the DOM lib. */
const TS_SETUPS = [
  { name: 'nodenext', dom: false },
  { name: 'nodenext', dom: true },
  { name: 'node10', dom: false },
  { name: 'node10', dom: true },
] as const;

function tsconfig(setup: (typeof TS_SETUPS)[number]): object {
  // ES2020 is older than what mpool is built with: its declarations must not need a newer lib.
  const lib = setup.dom ? ['ES2020', 'DOM'] : ['ES2020'];
  const common = { target: 'ES2022', lib, strict: true, noEmit: true, skipLibCheck: false, types: ['node'] };
  return setup.name === 'nodenext'
    ? { compilerOptions: { ...common, module: 'nodenext', moduleResolution: 'nodenext' }, files: ['typed.mts', 'main.ts', 'tasks.ts'] }
    : { compilerOptions: { ...common, module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true }, files: ['typed.cts'] };
}

let workDir: string;
let tarballDir: string;
let project: string;
const tarballs = new Map<string, string>();

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'mpool-packaging-'));
  tarballDir = join(workDir, 'tarballs');
  project = join(workDir, 'project');
  mkdirSync(tarballDir);
  mkdirSync(project);
  await run('npx', [...PNPM, '-r', '--filter', './packages/*', 'pack', '--pack-destination', tarballDir], ROOT, STEP_LIMIT_MS);
  for (const { manifest } of PACKAGES) {
    const file = join(tarballDir, `${manifest.name.replace('@', '').replace('/', '-')}-${manifest.version}.tgz`);
    if (!existsSync(file)) throw new Error(`pnpm did not pack ${manifest.name} into ${file}`);
    tarballs.set(manifest.name, file);
  }

  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'mpool-user', private: true, type: 'module' }, null, 2)}\n`);
  await run('npm', ['install', '--no-audit', '--no-fund', ...tarballs.values(), `@types/node@${TYPES_NODE}`], project, STEP_LIMIT_MS);
  for (const [name, body] of readmeExample()) writeFileSync(join(project, name), body);
  writeFileSync(join(project, 'commonjs.cjs'), COMMONJS_PROGRAM);
  writeFileSync(join(project, 'typed.mts'), TYPED_ESM);
  writeFileSync(join(project, 'typed.cts'), TYPED_CJS);
  for (const setup of TS_SETUPS) {
    writeFileSync(join(project, `tsconfig.${setup.name}${setup.dom ? '.dom' : ''}.json`), JSON.stringify(tsconfig(setup), null, 2));
  }
}, STEP_LIMIT_MS * 2);

afterAll(() => {
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

describe('the packages as published', () => {
  test('every package names its repository, home page, issues and licence, at one version for all', () => {
    expect(PACKAGES.map(({ manifest }) => manifest.name)).toEqual(expect.arrayContaining(['@mpool/core', '@mpool/threads', '@mpool/processes', '@mpool/manager', '@mpool/pool']));
    const versions = new Set(PACKAGES.map(({ manifest }) => manifest.version));
    expect(versions.size).toBe(1);
    for (const { dir, manifest } of PACKAGES) {
      expect(manifest).toMatchObject({
        license: 'MIT',
        repository: { type: 'git', url: 'git+https://github.com/mpool-js/mpool.git', directory: `packages/${dir}` },
        bugs: { url: 'https://github.com/mpool-js/mpool/issues' },
      });
      expect(manifest.homepage).toMatch(/^https:\/\/github\.com\/mpool-js\/mpool\b/);
    }
    // Released together: changesets bumps every @mpool package to one version.
    const changesets = JSON.parse(readFileSync(join(ROOT, '.changeset', 'config.json'), 'utf8')) as { fixed: string[][] };
    expect(changesets.fixed).toEqual([['@mpool/*']]);
  });

  test('each tarball holds its README, the licence, a changelog, and the sources its maps name', async () => {
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toContain('Copyright (c) 2026 the mpool authors');
    for (const [name, tarball] of tarballs) {
      const files = new Set(await tarballFiles(tarball));
      for (const required of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts']) {
        expect({ name, has: files.has(`package/${required}`) }).toEqual({ name, has: true });
      }
      // A worker thread imports it to learn whether it can load TypeScript already (worker/typescript.ts).
      if (name === '@mpool/core') expect(files.has('package/assets/typescript-probe.mts')).toBe(true);
      expect(await tarballText(tarball, 'LICENSE')).toBe(license);
      expect(await tarballText(tarball, 'README.md')).toContain(name);
      // Workers load their run loop as one file (scripts/bundle-workers.mjs, at the workspace's root).
      if (name === '@mpool/processes') expect(files.has('package/dist/worker-process.bundle.js')).toBe(true);
      if (name === '@mpool/threads') expect(files.has('package/dist/worker.bundle.js')).toBe(true);
      for (const map of [...files].filter((file) => file.endsWith('.map'))) {
        const { sources, sourcesContent } = JSON.parse(await tarballText(tarball, map.slice('package/'.length))) as { sources: string[]; sourcesContent?: unknown[] };
        for (const [i, source] of sources.entries()) {
          const path = posix.normalize(posix.join(posix.dirname(map), source));
          // A bundle's map names other packages' sources, and carries them within itself.
          const shipped = files.has(path) || typeof sourcesContent?.[i] === 'string';
          expect({ map, source: path, shipped }).toEqual({ map, source: path, shipped: true });
        }
      }
    }
  });

  test('dependencies between the packages carry the real version, never workspace:', async () => {
    for (const [name, tarball] of tarballs) {
      const manifest = JSON.parse(await tarballText(tarball, 'package.json')) as Manifest;
      for (const [dependency, range] of Object.entries(manifest.dependencies ?? {})) {
        expect({ name, dependency, range }).toEqual({ name, dependency, range: expect.not.stringContaining('workspace:') });
        if (dependency.startsWith('@mpool/')) expect({ name, dependency, range }).toEqual({ name, dependency, range: manifest.version });
      }
    }
  });
});

describe('installed with npm into an empty project', () => {
  test("the README's first example runs as written, as an ES module", async () => {
    const output = await run(process.execPath, ['main.mjs'], project);
    expect(output.trim().split('\n')).toEqual(['25', '[ 1, 4, 9, 16 ]', '49', '1024']);
  });

  test("the README's TypeScript example runs under tsx, its task module in TypeScript", async () => {
    const output = await run(process.execPath, [TSX, 'main.ts'], project);
    expect(output.trim()).toBe('[ 1, 4, 9, 16 ]');
  });

  test('require() works from a CommonJS script, on threads and processes', async () => {
    const output = await run(process.execPath, ['commonjs.cjs'], project);
    expect(output.trim().split('\n')).toEqual(['thread 36 [2,3,4] 3 0', 'spawn 36 [2,3,4] 3 0']);
  });

  test.each(TS_SETUPS)('TypeScript type-checks without skipLibCheck under $name resolution (DOM lib: $dom)', async (setup) => {
    await run(process.execPath, [TSC, '-p', `tsconfig.${setup.name}${setup.dom ? '.dom' : ''}.json`], project);
  });
});
