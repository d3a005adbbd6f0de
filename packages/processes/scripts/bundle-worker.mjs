/**
 * Bundles what a process worker loads after its socket listens (dist/worker-process.js, its run
 * loop from @mpool/core and the rest) into one file, dist/worker-process.bundle.js, which child.js
 * loads. A worker process is a fresh Node that loads every file it needs before it can answer: as
 * 22 files that took some 15 ms of its start-up, as one file about 6 ms (Node 20 has no compile
 * cache for CommonJS modules; most of the time went to finding, reading and wrapping each file).
 * Run by the workspace's `build`, after tsc.
 */
import { buildSync } from 'esbuild';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));

buildSync({
  entryPoints: [`${dist}worker-process.js`],
  outfile: `${dist}worker-process.bundle.js`,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  // The engine floor: nothing newer than Node 20 understands.
  target: 'node20',
  // Maps back to the TypeScript sources, through tsc's own maps.
  sourcemap: 'linked',
  // Errors of the build stop it; nothing else is worth a line.
  logLevel: 'error',
});
