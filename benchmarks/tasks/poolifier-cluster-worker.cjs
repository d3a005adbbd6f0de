/**
 * poolifier's cluster worker module: FixedClusterPool forks this file with `node:cluster`, and it
 * must be a ClusterWorker wrapping the tasks. It is CommonJS, as poolifier's own cluster examples
 * are: written as an ES module, its workers never answered a task here (poolifier 5.3.2, Node 20).
 * poolifier passes one value, so the pi range comes as `[first, last]`.
 */
'use strict';
const { ClusterWorker } = require('poolifier');

// The shared workload modules are ES modules: loaded once, as the worker starts.
const piTask = import('./pi-task.mjs');
const payloadTask = import('./payload-task.mjs');

module.exports = new ClusterWorker({
  // The first entry is the default: what `execute(x)` runs without a name.
  inc: (x) => x + 1,
  pi: async ([first, last]) => (await piTask).partialPi(first, last),
  echo: async (array) => (await payloadTask).echo(array),
});
