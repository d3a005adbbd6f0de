/**
 * Task modules written in TypeScript, in a program run under tsx, on every context, with no build
 * step: `.ts` (CommonJS by its package), `.mts` and `.cts` modules, one importing another, and an
 * initializer in TypeScript. The program is a child process, run both ways tsx is used.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const ROOT = join(__dirname, '..');
const PROGRAM = join(__dirname, 'fixtures', 'typescript', 'main.mts');
const TSX_CLI = require.resolve('tsx/cli', { paths: [ROOT] });
const CONTEXTS = ['thread', 'fork', 'spawn', 'forkserver', 'auto'];

/** Five pools, each starting workers under tsx, one after another. */
const PROGRAM_LIMIT_MS = 60_000;

interface Line {
  context: string;
  inUse: string;
  map: number[];
  shout: string;
  negate: number;
  seen: { greeting: string; initialised: string; execArgv: string[]; worker: string };
  parent: string;
}

/** The flags of `execArgv` that load a module before the program, with their values. */
function preloads(execArgv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    if (['--import', '--require', '-r', '--loader'].includes(execArgv[i])) out.push(execArgv[i], execArgv[++i]);
  }
  return out;
}

async function runUnder(runner: string[], nodeOptions?: string): Promise<Line[]> {
  const env = nodeOptions === undefined ? process.env : { ...process.env, NODE_OPTIONS: nodeOptions };
  const { stdout } = await execFileAsync(process.execPath, [...runner, PROGRAM, CONTEXTS.join(',')], { cwd: ROOT, env, timeout: PROGRAM_LIMIT_MS });
  return stdout.trim().split('\n').map((line) => JSON.parse(line) as Line);
}

describe.each([
  // With a flag a Worker refuses when given explicitly: threads must go on inheriting the program's flags.
  ['node --import tsx --max-old-space-size=512', ['--import', 'tsx', '--max-old-space-size=512']],
  ['the tsx command', [TSX_CLI]],
  ["NODE_OPTIONS='--import tsx'", [], '--import tsx'],
])('TypeScript task modules under %s', (_, runner, nodeOptions?: string) => {
  let lines: Line[];
  beforeAll(async () => {
    lines = await runUnder(runner, nodeOptions);
  }, PROGRAM_LIMIT_MS);

  test.each(CONTEXTS)("load and run on '%s', initializer included", (context) => {
    const line = lines.find((l) => l.context === context);
    expect(line).toMatchObject({
      map: [1, 4, 9, 16],
      shout: 'HELLO, TS',
      negate: -5,
      seen: { greeting: 'hello, mts', initialised: `initialised on ${context}` },
    });
  });

  test("'thread' and 'auto' run them in threads of the program's own process", () => {
    for (const context of ['thread', 'auto']) {
      const line = lines.find((l) => l.context === context) as Line;
      expect(line.inUse).toBe('thread');
      expect(line.seen.worker.split(':')[0]).toBe(line.parent);
    }
  });

  test("'spawn' and 'forkserver' workers get tsx's loader and none of the program's other preloads", () => {
    for (const context of ['spawn', 'forkserver']) {
      const line = lines.find((l) => l.context === context) as Line;
      const flags = preloads(line.seen.execArgv);
      // NODE_OPTIONS reaches them by their environment, and nothing is added to their flags.
      if (nodeOptions !== undefined) {
        expect(flags).toEqual([]);
        continue;
      }
      expect(flags).toHaveLength(2);
      expect(flags[0]).toBe('--import');
      expect(flags[1]).toMatch(/^file:\/\/.*[\\/]tsx[\\/]dist[\\/]loader\.mjs$/);
    }
  });
});
