/**
 * A 'fork' pool made by a program that Node runs from the command line (`node -e`, `-p`,
 * `--eval=`) starts its workers, not the program again: the flags that carry the program are not
 * among those its workers inherit.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { forkableFlags } from '../../packages/processes/src/inherited-flags';
import { fixture } from '../conformance/fixtures';

const run = promisify(execFile);
const POOL = join(__dirname, '..', '..', 'packages', 'pool', 'dist', 'index.js');
/** Set by the program for its children: a child that runs it again says so and stops, rather than fork again. */
const GUARD = 'MPOOL_TEST_EVAL_GUARD';
/** The program's whole run, workers and all; it takes about a second. */
const RUN_LIMIT_MS = 20_000;

const program = `
if (process.env.${GUARD}) { console.log('RAN AGAIN'); process.exit(0); }
process.env.${GUARD} = '1';
const { Pool, task } = require(${JSON.stringify(POOL)});
(async () => {
  const pool = new Pool({ context: 'fork', processes: 1 });
  try {
    console.log('RESULT', await pool.apply(task(${JSON.stringify(fixture('values.mjs'))}, 'sqr'), [7]));
  } finally {
    await pool.terminate();
  }
})().catch((error) => { console.log('FAILED', error.name, error.message); process.exitCode = 1; });
`;

describe('a program run by node -e', () => {
  test.each([
    ['-e', ['-e', program]],
    ['--eval', ['--eval', program]],
    ['--eval=', [`--eval=${program}`]],
    ['-p', ['-p', program]],
    ['-pe', ['-pe', program]],
  ])("has its 'fork' workers run tasks, not the program again (%s)", async (_form, argv) => {
    const { stdout } = await run(process.execPath, argv, { timeout: RUN_LIMIT_MS, env: { ...process.env, [GUARD]: '' } });
    expect(stdout).not.toMatch(/RAN AGAIN|FAILED/);
    expect(stdout).toMatch(/^RESULT 49$/m);
  });
});

describe('forkableFlags', () => {
  test('drops the flags that run something else, and their values', () => {
    expect(forkableFlags(['-e', 'x()', '--max-old-space-size=64', '-p', 'y', '--eval=z', '--print', 'w'])).toEqual(['--max-old-space-size=64']);
    expect(forkableFlags(['--test', '--watch', '--watch-path', 'src', '--watch-path=lib', '-i', '-c', '--enable-source-maps'])).toEqual(['--enable-source-maps']);
  });

  test('keeps every other flag, and the values of flags that take one', () => {
    const flags = ['-r', 'ts-node/register', '--import', 'tsx', '--no-warnings', '--input-type=module', '--conditions', 'dev'];
    expect(forkableFlags(flags)).toEqual(flags);
  });
});
