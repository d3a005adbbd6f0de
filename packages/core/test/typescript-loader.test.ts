/** Finding tsx in a program's execArgv, as each way of running tsx puts it there. */
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findTypeScriptLoader } from '../src/typescript-loader.js';

const ROOT = join(__dirname, '..', '..', '..');
const TSX_PACKAGE = realpathSync(require.resolve('tsx/package.json', { paths: [ROOT] }));
const TSX = dirname(TSX_PACKAGE);
const LOADER_URL = pathToFileURL(join(TSX, 'dist', 'loader.mjs')).href;
const PREFLIGHT = join(TSX, 'dist', 'preflight.cjs');

describe('findTypeScriptLoader', () => {
  test('`node --import tsx`: the loader, resolved from the working directory to a file URL', () => {
    expect(findTypeScriptLoader(['--import', 'tsx'], ROOT)).toEqual({ execArgv: ['--import', LOADER_URL], packageJson: TSX_PACKAGE });
    expect(findTypeScriptLoader(['--import=tsx'], ROOT)?.execArgv).toEqual(['--import', LOADER_URL]);
  });

  test('the tsx command: its loader goes to workers, its preflight (which relays signals to the command) does not', () => {
    const found = findTypeScriptLoader(['--require', PREFLIGHT, '--import', LOADER_URL], '/');
    expect(found).toEqual({ execArgv: ['--import', LOADER_URL], packageJson: TSX_PACKAGE });
  });

  test("tsx's CommonJS hook given to --require (or -r) is passed as an absolute path", () => {
    const cjs = join(TSX, 'dist', 'cjs', 'index.cjs');
    expect(findTypeScriptLoader(['-r', 'tsx/cjs'], ROOT)?.execArgv).toEqual(['--require', cjs]);
  });

  test("the program's other flags and preloads are not the loader's", () => {
    const other = join(ROOT, 'test', 'fixtures', 'values.mjs');
    const found = findTypeScriptLoader(['--max-old-space-size=100', '--import', other, '--import', 'tsx', '--enable-source-maps', '--require', 'no-such-package'], ROOT);
    expect(found?.execArgv).toEqual(['--import', LOADER_URL]);
  });

  test('a program without tsx has no TypeScript loader', () => {
    expect(findTypeScriptLoader([], ROOT)).toBeUndefined();
    expect(findTypeScriptLoader(['--import', join(ROOT, 'test', 'fixtures', 'values.mjs'), '--inspect'], ROOT)).toBeUndefined();
    expect(findTypeScriptLoader(['--import'], ROOT)).toBeUndefined();
  });
});
