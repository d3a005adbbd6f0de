/**
 * The documentation cannot rot unseen: the API reference builds from the TSDoc comments with
 * every export documented and every `{@link}` resolved (typedoc, as `pnpm run docs` runs it, with
 * warnings as errors), no exported signature names an mpool type the reference leaves out, and
 * every relative link in the Markdown pages points at a file (and heading) that exists.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const ROOT = join(__dirname, '..');
const TYPEDOC = join(dirname(require.resolve('typedoc/package.json', { paths: [ROOT] })), 'bin', 'typedoc');

/** typedoc type-checks the sources first: about 10 s on 2 idle cores, far more on busy ones. */
const TYPEDOC_LIMIT_MS = 120_000;
const OUTPUT_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * mpool's types that exported signatures name but @mpool/pool does not export, each for a reason.
 * typedoc's own `notExported` check looks only at the entry point's package, not at what it
 * re-exports from mpool's internal packages, so this test looks at those.
 */
const INTENTIONALLY_NOT_EXPORTED = new Map([
  ['@mpool/core/src/errors.ts:MpoolErrorOptions', "an error constructor's `{ cause }`, as the ES2022 lib's ErrorOptions, described where it is taken"],
  ['@mpool/manager/src/handle.ts:SharedHandle', 'half of Shared<T>: the plain data that travels in place of a shared object, never used directly'],
  ['@mpool/manager/src/remote.ts:RemoteCall', 'half of Remote<T>, which documents it'],
  ['@mpool/manager/src/remote.ts:RemoteObject', 'half of Remote<T>, which documents it'],
]);

/** The Markdown pages whose relative links are checked: every one in the repository but changelogs. */
function markdownPages(): string[] {
  const pages = ['README.md', 'CONTRIBUTING.md', 'benchmarks/README.md', 'examples/README.md', '.changeset/README.md'];
  for (const dir of readdirSync(join(ROOT, 'packages'))) {
    if (existsSync(join(ROOT, 'packages', dir, 'README.md'))) pages.push(`packages/${dir}/README.md`);
  }
  for (const file of readdirSync(join(ROOT, 'docs'))) if (file.endsWith('.md')) pages.push(`docs/${file}`);
  return pages;
}

/** A page's text without its fenced code blocks and inline code, where brackets are code, not links. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of markdown.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** Every relative link of `page` (inline and reference-style), as written. */
function relativeLinks(page: string): string[] {
  const text = prose(readFileSync(join(ROOT, page), 'utf8'));
  const targets = [
    ...[...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]),
    ...[...text.matchAll(/^\s*\[[^\]]+\]:\s+<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]),
  ];
  return targets.filter((target) => !/^[a-z][a-z+.-]*:/i.test(target));
}

/** What is wrong with a link from `page` to `target`, or undefined when it leads somewhere. */
function brokenLink(page: string, target: string): string | undefined {
  const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
  const file = pathPart === '' ? join(ROOT, page) : join(ROOT, dirname(page), decodeURIComponent(pathPart));
  if (!file.startsWith(ROOT) || !existsSync(file)) return `${page}: ${target} (no such file: ${relative(ROOT, file)})`;
  if (anchor === undefined || anchor === '' || statSync(file).isDirectory() || !file.endsWith('.md')) return undefined;
  if (!anchors(readFileSync(file, 'utf8')).has(anchor)) return `${page}: ${target} (no heading #${anchor} in ${relative(ROOT, file)})`;
  return undefined;
}

interface ReferenceTarget {
  packageName: string;
  packagePath: string;
  qualifiedName: string;
}

/**
 * Where a class's lineage is told rather than a type used: `Pool extends` @mpool/core's `Pool`,
 * which users never name. typedoc's own check skips these too.
 */
const LINEAGE_KEYS = new Set(['extendedTypes', 'extendedBy', 'implementedBy', 'inheritedFrom', 'implementationOf']);

/** Every type named in typedoc's JSON model that resolves to nothing in the reference: `{ where, key }`. */
function unresolvedReferences(node: unknown, where: string, found: { where: string; key: string }[] = []): { where: string; key: string }[] {
  if (Array.isArray(node)) {
    for (const item of node) unresolvedReferences(item, where, found);
  } else if (typeof node === 'object' && node !== null) {
    const record = node as Record<string, unknown>;
    const here = typeof record.name === 'string' && typeof record.kind === 'number' ? (where === '' ? record.name : `${where}.${record.name}`) : where;
    if (record.type === 'reference' && typeof record.target === 'object' && record.target !== null && record.refersToTypeParameter !== true) {
      const target = record.target as ReferenceTarget;
      found.push({ where: here, key: `${target.packageName}/${target.packagePath}:${target.qualifiedName}` });
    }
    for (const [key, value] of Object.entries(record)) if (!LINEAGE_KEYS.has(key)) unresolvedReferences(value, here, found);
  }
  return found;
}

let outDir: string;
let typedoc: { code: number; output: string };

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'mpool-docs-'));
  // The root's typedoc.json (what `pnpm run docs` runs), its checks spelled out here too.
  const args = [
    TYPEDOC,
    '--validation.notExported',
    '--validation.invalidLink',
    '--validation.notDocumented',
    '--treatWarningsAsErrors',
    '--out',
    join(outDir, 'html'),
    '--json',
    join(outDir, 'api.json'),
  ];
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, args, { cwd: ROOT, timeout: TYPEDOC_LIMIT_MS, maxBuffer: OUTPUT_LIMIT_BYTES });
    typedoc = { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const { code, stdout, stderr } = error as { code?: number; stdout?: string; stderr?: string };
    typedoc = { code: code ?? -1, output: `${stdout ?? ''}${stderr ?? ''}` };
  }
}, TYPEDOC_LIMIT_MS + 10_000);

/** typedoc's JSON model of the reference; written only when the reference built without a warning. */
function apiModel(): unknown {
  const file = join(outDir, 'api.json');
  if (!existsSync(file)) throw new Error("typedoc wrote no model: the reference did not build (see the test 'builds with every export documented')");
  return JSON.parse(readFileSync(file, 'utf8')) as unknown;
}

afterAll(() => {
  if (outDir !== undefined) rmSync(outDir, { recursive: true, force: true });
});

describe('the API reference', () => {
  test('builds with every export documented and every link resolved', () => {
    const lines = typedoc.output.replace(/\u001b\[[0-9;]*m/g, '').split('\n');
    const problems = lines.filter((line) => /\[(warning|error)\]/.test(line) && !/Found \d+ errors? and \d+ warnings?/.test(line));
    expect(problems).toEqual([]);
    expect(typedoc.code).toBe(0);
    expect(existsSync(join(outDir, 'html', 'index.html'))).toBe(true);
  });

  test('documents what users import: Pool, its options, the errors, Manager', () => {
    const model = apiModel() as { children: { name: string }[] };
    const names = model.children.map((child) => child.name);
    for (const name of ['Pool', 'getContext', 'task', 'AsyncResult', 'MpoolOptions', 'PoolOptions', 'MpoolError', 'WorkerCrashedError', 'Manager', 'SharedLock']) {
      expect({ name, documented: names.includes(name) }).toEqual({ name, documented: true });
    }
  });

  test('names no mpool type that it leaves out, but those left out on purpose', () => {
    const model = apiModel();
    const unresolved = unresolvedReferences(model, '');
    const missing = unresolved
      .filter(({ key }) => key.startsWith('@mpool/') && !INTENTIONALLY_NOT_EXPORTED.has(key))
      .map(({ where, key }) => `${key}, named by ${where}`);
    expect([...new Set(missing)]).toEqual([]);
    // The list stays true: each type on it is still named, and still left out.
    const named = new Set(unresolved.map(({ key }) => key));
    expect([...INTENTIONALLY_NOT_EXPORTED.keys()].filter((key) => !named.has(key))).toEqual([]);
  });
});

describe("the README's commands", () => {
  test('CI runs the test command of "Try it", exactly, on a line of its own', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const command = /^# the whole test suite\n(.+)$/m.exec(readme)?.[1];
    expect(command).toBe('npx -y pnpm@12.4.2 install --frozen-lockfile && npx -y pnpm@12.4.2 test');
    expect(readFileSync(join(ROOT, '.ci', 'run'), 'utf8').split('\n')).toContain(command);
  });
});

describe('the Markdown pages', () => {

  test.each(markdownPages())('%s: every relative link points at a file and heading that exist', (page) => {
    const broken = relativeLinks(page)
      .map((target) => brokenLink(page, target))
      .filter((problem) => problem !== undefined);
    expect(broken).toEqual([]);
  });
});
