/**
 * piscina's worker module: `default` is the task `run(x)` calls; the others are picked with
 * `run(x, { name })`. piscina passes one value, so the pi range comes as `[first, last]`.
 *
 * CommonJS, because piscina loads a worker module with require() first: on Node 20, require() of
 * an ES module in a worker that is terminated while loading it aborts the whole process (V8's
 * "ToLocalChecked Empty MaybeLocal"), which the start-up benchmark hit by destroying the pool
 * right after its first result. The shared pi and payload tasks are ES modules, imported here;
 * piscina awaits an export that is a promise of the function, so calls pay nothing for it.
 */
const { move } = require('piscina');

const shared = Promise.all([import('./pi-task.mjs'), import('./payload-task.mjs')]);

exports.__esModule = true; // the exports as they are, `default` included
exports.default = function inc(x) {
  return x + 1;
};
exports.pi = shared.then(([{ partialPi }]) => ([first, last]) => partialPi(first, last));
exports.echo = shared.then(([, { echo }]) => echo);
/** `echo`, its answer handed back with its buffer transferred rather than copied. */
exports.echoMove = shared.then(([, { echo }]) => (array) => move(echo(array)));
