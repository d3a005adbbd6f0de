/**
 * Bundles what a worker loads before it can run a task into one file beside its entry: for a
 * process worker, what `child.js` loads once its socket listens (dist/worker-process.js, the run
 * loop from @mpool/core and the rest) into dist/worker-process.bundle.js; for a thread worker,
 * its entry (dist/worker.js) into dist/worker.bundle.js. Each worker is a fresh Node (a process,
 * or a thread with a module cache of its own) that loads every file it needs before it answers:
 * as 22 files, 12–22 ms of a worker process's start-up with two booting on two cores and about
 * 8 ms of a thread's; as one file, 5–7 ms and about 4 (Node 20 has no compile cache for CommonJS
 * modules: most of the time went to finding, reading and wrapping each file). The backends load
 * the files themselves where a bundle is missing (a tree built by tsc alone).
 * Run by the workspace's `build`, after tsc.
 */
import { buildSync } from 'esbuild';
import { fileURLToPath } from 'node:url';

const packages = fileURLToPath(new URL('../packages/', import.meta.url));
const ENTRIES = [
  ['processes', 'worker-process'],
  ['threads', 'worker'],
];

for (const [dir, entry] of ENTRIES) {
  const dist = `${packages}${dir}/dist/`;
  buildSync({
    entryPoints: [`${dist}${entry}.js`],
    outfile: `${dist}${entry}.bundle.js`,
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
}
