/**
 * Benchmark 5, imap memory: `items` results through imap with a chunksize, the parent's memory
 * sampled every `sampleEvery` results. What matters is that it stays flat however long the input
 * is. Each system runs once, alone in a fresh process (lib/imap-child.mjs for mpool, pools.py for
 * Python), so that no other system's garbage is counted, one after another, not interleaved.
 *
 * Resident memory (RSS) is the whole process's: on 'thread' that includes the workers' own
 * heaps, while a process context's workers and Python's are other processes, not counted.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { picked } from './harness.mjs';
import { PYTHON_SYSTEMS, pythonEntry } from './python.mjs';

const execFileAsync = promisify(execFile);
const CHILD = fileURLToPath(new URL('imap-child.mjs', import.meta.url));

/** mpool's ways through imap: ordered and unordered on threads, ordered on 'spawn'. */
const MPOOL_RUNS = [
  { name: 'mpool thread imap', method: 'imap', context: 'thread', runsOn: 'thread' },
  { name: 'mpool thread imapUnordered', method: 'imapUnordered', context: 'thread', runsOn: 'thread' },
  { name: 'mpool spawn imap', method: 'imap', context: 'spawn', runsOn: 'process' },
];

async function mpoolRun(run, config) {
  const { stdout } = await execFileAsync(process.execPath, [CHILD, JSON.stringify({ ...config, method: run.method, context: run.context })]);
  return JSON.parse(stdout);
}

async function pythonRun(python, unordered, config) {
  const entry = pythonEntry(python, PYTHON_SYSTEMS[0], 'imap', { ...config, unordered });
  await entry.start();
  try {
    return { ...(await entry.measure()), startHeapUsedMB: null, peakHeapUsedMB: null, heapUsedSamplesMB: null };
  } finally {
    await entry.stop();
  }
}

export async function imapMemory({ items, chunksize, sampleEvery, workers, python, only }) {
  const config = { items, chunksize, sampleEvery, workers };
  const runs = [
    ...MPOOL_RUNS.map((run) => ({ ...run, go: () => mpoolRun(run, config) })),
    ...(python === null
      ? []
      : [
          { name: 'Python Pool.imap', runsOn: 'process', go: () => pythonRun(python, false, config) },
          { name: 'Python Pool.imap_unordered', runsOn: 'process', go: () => pythonRun(python, true, config) },
        ]),
  ].filter((r) => picked(only, r.name));
  const systems = {};
  for (const run of runs) {
    process.stderr.write(`imap: ${run.name}…\n`);
    systems[run.name] = { runsOn: run.runsOn, ...(await run.go()) };
  }
  return { config: { ...config, unit: 'MiB' }, systems };
}
