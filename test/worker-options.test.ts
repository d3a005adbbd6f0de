/**
 * The Node flags a pool adds to its workers' (`execArgv`), where the contexts differ: a worker
 * thread takes fewer flags than a process, 'fork' keeps the program's own flags and 'spawn' does not.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pool, type ContextName } from '@mpool/pool';
import { usePools } from './conformance/helpers';

const execFileAsync = promisify(execFile);
const PROGRAM = join(__dirname, 'fixtures', 'exec-argv.cjs');
/** A Node start and a pool's, with room for a busy machine. */
const PROGRAM_LIMIT_MS = 20_000;

test.each(['thread', 'auto'] as ContextName[])("the '%s' context refuses, at once, flags a worker thread does not take", (context) => {
  expect(() => new Pool({ context, execArgv: ['--no-warnings', '--expose-gc'] })).toThrow(
    new TypeError(`The '${context}' context runs workers on threads, which do not take every flag of \`execArgv\` (Initiated Worker with invalid execArgv flags: --expose-gc); give process-wide flags to the 'fork', 'spawn' or 'forkserver' context`),
  );
});

describe.each(['fork', 'spawn', 'forkserver'] as ContextName[])("the '%s' context", (context) => {
  const newPool = usePools(context);

  test('gives its workers the flags only a process takes', async () => {
    const pool = newPool({ processes: 1, execArgv: ['--expose-gc'] });
    expect(await pool.apply(() => typeof (globalThis as { gc?: unknown }).gc)).toBe('function');
  });

  test("adds them to the flags its context gives: the program's own for 'fork', none for the others", async () => {
    const { stdout } = await execFileAsync(process.execPath, ['--no-deprecation', PROGRAM, context], { timeout: PROGRAM_LIMIT_MS });
    const flags = JSON.parse(stdout) as string[];
    expect(flags).toEqual(context === 'fork' ? ['--no-deprecation', '--no-warnings'] : ['--no-warnings']);
  });
});
