/**
 * One Node system of one benchmark, alone in its own process, as pools.py is for Python: started
 * by lib/isolated.mjs with `node node-runner.mjs BENCHMARK SYSTEM CONFIG_JSON` over an IPC channel.
 * It opens the system's pools, says `{ ready: true }`, then answers each `{ command: 'run', kind }`
 * (or `'warmup'`) with that run's measurements (`kind`, when given, says which of the
 * benchmark's measurements), and on `'stop'` closes its pools and exits. No system measured here
 * pays for another one's garbage or shares its heap, and Python's pools get the same treatment.
 */
import { nodeSystems, startupSystems } from './pools.mjs';

const [benchmark, systemName, configJson] = process.argv.slice(2);
const ENTRIES = {
  tiny: () => import('./bench-tiny.mjs'),
  pi: () => import('./bench-pi.mjs'),
  payloads: () => import('./bench-payloads.mjs'),
  startup: () => import('./bench-startup.mjs'),
};

if (process.send === undefined) throw new Error('node-runner.mjs: start it through lib/isolated.mjs (it needs an IPC channel)');
// The benchmark that started it is gone (killed, say, by a timeout): nobody will ask it anything
// again, and its pools must not keep it alive.
process.on('disconnect', () => process.exit(0));
const load = ENTRIES[benchmark];
const adapter = [...nodeSystems(), ...(benchmark === 'startup' ? startupSystems() : [])].find((system) => system.name === systemName);
if (load === undefined || adapter === undefined) throw new Error(`node-runner.mjs: no benchmark ${benchmark} or no system ${systemName}`);
const entry = (await load()).nodeEntry(adapter, JSON.parse(configJson));

const answer = (message) => new Promise((resolve, reject) => process.send(message, (error) => (error ? reject(error) : resolve())));

try {
  await entry.start();
  await answer({ ready: true });
} catch (error) {
  await answer({ error: String(error?.stack ?? error) });
  process.exit(1);
}

process.on('message', async ({ command, kind }) => {
  try {
    if (command === 'stop') {
      await entry.stop();
      process.disconnect();
      process.exit(0);
    }
    const run = command === 'warmup' ? (entry.warmup ?? entry.measure) : entry.measure;
    await answer({ result: await run.call(entry, kind) });
  } catch (error) {
    await answer({ error: String(error?.stack ?? error) });
  }
});
