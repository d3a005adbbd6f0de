/**
 * The functions a worker knows: each defined by the pool (its module and export, or its source)
 * before its first task, then loaded once, on that first task, and kept.
 *
 *   defined ──load()──▶ loaded
 */
import type { FnDef, FnSpec } from '../wire.js';
import { loadFunction, type Callable } from './load-task.js';

export class Functions {
  readonly #specs = new Map<number, FnSpec>();
  readonly #loaded = new Map<number, Callable>();

  /** Definitions from a RUN message. */
  define(defs: readonly FnDef[]): void {
    for (const [fnId, spec] of defs) this.#specs.set(fnId, spec);
  }

  /** Function `fnId` if it is loaded. */
  loaded(fnId: number): Callable | undefined {
    return this.#loaded.get(fnId);
  }

  /** Where function `fnId` comes from, for its errors. */
  spec(fnId: number): FnSpec | undefined {
    return this.#specs.get(fnId);
  }

  /** Loads function `fnId`; rejects when it cannot (see load-task.ts), or was never defined. */
  async load(fnId: number): Promise<Callable> {
    const spec = this.#specs.get(fnId);
    if (spec === undefined) throw new Error(`mpool protocol error: function ${fnId} was never defined`);
    const fn = await loadFunction(spec);
    this.#loaded.set(fnId, fn);
    return fn;
  }
}
