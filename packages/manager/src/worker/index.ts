/**
 * The Manager's worker plugin: the module a worker loads (with `require()`, see @mpool/core's
 * worker/plugins.ts) once a Manager has shared an object in the pool's process.
 */
import type { PluginPort, WorkerPluginHalf } from '@mpool/core/worker';
import { RemoteHub } from './remote-hub.js';

/** The Manager's worker half for this worker, speaking on `port`. */
export function createWorkerPlugin(port: PluginPort): WorkerPluginHalf {
  return new RemoteHub(port);
}
