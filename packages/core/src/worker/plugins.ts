/**
 * The worker's side of worker plugins (see ../plugins.ts): the plugins this worker has heard of,
 * each loaded with `require()` from the module the pool named, and called around every task:
 * `present` turns the handles among a task's arguments into local objects, `beginTask` and
 * `endTask` tell what the task's calls belong to and when it is over. With no plugin (the common
 * case) a task's arguments are not even looked at.
 */
import { MessageKind, RunMode } from '../wire.js';

/** How a plugin's worker half speaks to its pool half, on this worker's side channel. */
export interface PluginPort {
  /** Sends `data` to the pool half under `id`; throws when `data` cannot be copied. */
  send(id: number, data: unknown): void;
}

/** A plugin's worker half: what `createWorkerPlugin(port)` of its module returns. */
export interface WorkerPluginHalf {
  /** A frame from the pool half, under `id`. */
  deliver(id: number, data: unknown): void;
  /**
   * `args` with the handles this plugin knows replaced by local objects; `args` itself when it
   * holds none. Called within a task for its arguments, and outside any (the initializer's
   * arguments, whose objects last as long as the worker).
   */
  present(args: readonly unknown[]): readonly unknown[];
  /** A task begins: what its objects do belongs to it until `endTask`. */
  beginTask(): void;
  /** The task has ended: let go of what it took and what it left waiting or held. */
  endTask(): void;
}

/** What a plugin's worker module exports. */
interface PluginModule {
  createWorkerPlugin?: (port: PluginPort) => WorkerPluginHalf;
}

export class Plugins {
  readonly #loaded: WorkerPluginHalf[] = [];
  readonly #send: (message: unknown[]) => void;

  /** `send` posts a message to the pool. */
  constructor(send: (message: unknown[]) => void) {
    this.#send = send;
  }

  /** Loads the plugins of `modules`, numbered on from those loaded already. */
  load(modules: readonly string[]): void {
    for (const module of modules) {
      const index = this.#loaded.length;
      const exports = require(module) as PluginModule;
      if (typeof exports.createWorkerPlugin !== 'function') throw new Error(`mpool: the plugin module ${module} exports no createWorkerPlugin()`);
      this.#loaded.push(exports.createWorkerPlugin({ send: (id, data) => this.#send([MessageKind.Side, index, id, data]) }));
    }
  }

  /** A frame for plugin number `index`. */
  deliver(index: number, id: number, data: unknown): void {
    this.#loaded[index]?.deliver(id, data);
  }

  /** A task's payload with the plugins' handles in it turned into local objects. */
  present(mode: RunMode, payload: unknown): unknown {
    if (this.#loaded.length === 0 || !Array.isArray(payload)) return payload; // a chunk in a codec's own form holds none
    let out = payload as readonly unknown[];
    if (mode !== RunMode.Starmap) {
      for (const plugin of this.#loaded) out = plugin.present(out);
      return out;
    }
    let copied: unknown[] | undefined;
    for (let i = 0; i < out.length; i++) {
      const args = out[i] as readonly unknown[];
      let presented = args;
      for (const plugin of this.#loaded) presented = plugin.present(presented);
      if (presented !== args) (copied ??= out.slice())[i] = presented;
    }
    return copied ?? out;
  }

  beginTask(): void {
    for (const plugin of this.#loaded) plugin.beginTask();
  }

  endTask(): void {
    for (const plugin of this.#loaded) plugin.endTask();
  }
}
