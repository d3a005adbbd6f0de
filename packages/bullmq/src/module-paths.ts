/**
 * Task modules across machines. On one machine a task module travels as a file URL; on a cluster
 * the same checkout sits at a different place on each machine, so a module travels as its path
 * relative to the pool's `root` and each worker resolves it against its own `--root`.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FnSpec } from '@mpool/core';

/** `path` relative to `root`, in '/' form, or undefined when it is not inside `root`. */
function inside(root: string, path: string): string | undefined {
  const rel = relative(root, path);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/');
}

/**
 * A function's spec as it travels to another machine: a module under `root` by its relative
 * path; a `data:` module and a function's source as they are. Throws `TypeError` for a module
 * outside `root`, which no worker could find.
 */
export function specForCluster(spec: FnSpec, root: string): FnSpec {
  if (spec.kind === 'source' || spec.module.startsWith('data:')) return spec;
  const path = fileURLToPath(spec.module);
  const rel = inside(root, path);
  if (rel === undefined) {
    throw new TypeError(`The task module ${path} is outside the pool's root ${root}: workers find task modules by their path under root (their --root), so move it there or give the pool a \`root\` that holds it`);
  }
  return { kind: 'module', module: rel, exportName: spec.exportName };
}

/**
 * A spec from another machine, made runnable here: a module path resolved against `root` (and
 * refused if it leaves it); inline code (a function's source, a `data:` module) refused when
 * `allowInline` is false.
 */
export function specFromCluster(spec: FnSpec, root: string, allowInline: boolean): FnSpec {
  const inline = spec.kind === 'source' || spec.module.startsWith('data:');
  if (inline) {
    if (!allowInline) {
      const what = spec.kind === 'source' ? `the inline function ${spec.label}` : 'a data: module';
      throw new TypeError(`This mpool-worker runs only task modules under its --root (it was started with --no-inline), and was sent ${what}: use task() with a module`);
    }
    return spec;
  }
  const path = resolve(root, spec.module);
  if (isAbsolute(spec.module) || inside(root, path) === undefined) {
    throw new TypeError(`The task module ${spec.module} is not a path under this worker's --root ${root}`);
  }
  return { kind: 'module', module: pathToFileURL(path).href, exportName: spec.exportName };
}
