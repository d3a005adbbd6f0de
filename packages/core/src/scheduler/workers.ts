/**
 * The pool's workers: one slot for each that has not exited. Starts them (all at once, or as the
 * work needs them), retires and terminates them, lets them keep the program alive or not, and
 * moves the pool to its fallback executor (the 'auto' context). A worker started while one that
 * left (or takes no more work) has not been replaced yet is its replacement (stats.ts).
 */
import type { PayloadCodec } from '../codec.js';
import { CLONE_CODEC } from '../codecs/clone.js';
import { messageOf } from '../exit-info.js';
import type { Executor, WorkerExitInfo } from '../executor.js';
import { pluginCount, pluginModules } from '../plugins.js';
import type { StatsCollector } from '../stats.js';
import { MessageKind, type WorkerInit } from '../wire.js';
import { Slot, SlotState } from './slot.js';

/** Where to move when a worker reports that it cannot do what a task or the initializer needs. */
export interface Fallback {
  /** The context name to report once moved. */
  readonly context: string;
  readonly executor: Executor;
  /** Whether `error`, from a task or the initializer, calls for the move. */
  readonly when: (error: unknown) => boolean;
}

export interface WorkersOptions {
  readonly executor: Executor;
  /** The context name the pool reports. */
  readonly context: string;
  /** Where to move on an error the first executor's workers cannot get past (the 'auto' context). */
  readonly fallback?: Fallback;
  /** The most workers the pool has. */
  readonly size: number;
  /** How many of them start at once; the others start when there is more work than workers. */
  readonly startAtOnce: number;
  readonly init: WorkerInit;
  /** Jobs per worker before it is replaced; `Infinity` for never. */
  readonly maxTasksPerChild: number;
}

/** What the workers say, each call naming the worker. */
export interface SlotEvents {
  message(slot: Slot, data: unknown): void;
  exit(slot: Slot, info: WorkerExitInfo): void;
}

export class Workers {
  #executor: Executor;
  #context: string;
  readonly #fallback: Fallback | undefined;
  #movedToFallback = false;
  readonly #size: number;
  readonly #startAtOnce: number;
  readonly #init: WorkerInit;
  readonly #maxTasksPerChild: number;
  readonly #events: SlotEvents;
  /** How many jobs are pending, or undefined when no worker may start now. */
  readonly #demand: () => number | undefined;
  /** Every worker that has not exited yet. */
  readonly slots = new Set<Slot>();
  /** Workers that left, or take no more work, and that no new worker has replaced yet, oldest first. */
  readonly #vacated: Slot[] = [];
  readonly #stats: StatsCollector;
  #referenced = false;

  constructor(options: WorkersOptions, events: SlotEvents, demand: () => number | undefined, stats: StatsCollector) {
    this.#executor = options.executor;
    this.#context = options.context;
    this.#fallback = options.fallback;
    this.#size = options.size;
    this.#startAtOnce = options.startAtOnce;
    this.#init = options.init;
    this.#maxTasksPerChild = options.maxTasksPerChild;
    this.#events = events;
    this.#demand = demand;
    this.#stats = stats;
  }

  /** The context the workers run in now: the fallback's, once the pool has moved. */
  get context(): string {
    return this.#context;
  }

  /** How payloads and results travel to and from the workers that start now (codec.ts). */
  get codec(): PayloadCodec {
    return this.#executor.codec ?? CLONE_CODEC;
  }

  /** How long the workers' messages take to answer when the work is nothing (executor.ts); 0 here. */
  get roundTripMs(): number {
    return this.#executor.roundTripMs ?? 0;
  }

  /** How many workers have not exited yet. */
  get count(): number {
    return this.slots.size;
  }

  /** Whether a new worker would start if more work came: the pool has fewer than its size. */
  get mayGrow(): boolean {
    return this.slots.size < this.#size;
  }

  /**
   * Starts workers until there are enough that take or will take work, while there is or may be
   * work: `size` of them for a pool that starts them all at once; for a bigger pool, those it
   * starts at once, or one for each job pending when there are more, up to `size`.
   */
  fill(): void {
    const pending = this.#demand();
    if (pending === undefined) return;
    const wanted = Math.min(this.#size, Math.max(this.#startAtOnce, pending));
    for (let n = this.#activeCount(); n < wanted; n++) this.#spawn();
  }

  /** Workers that take or will take work; those that do not any more are noted as vacated. */
  #activeCount(): number {
    let n = 0;
    for (const slot of this.slots) {
      if ((slot.state === SlotState.Starting || slot.state === SlotState.Ready) && slot.quota > 0) n++;
      else this.#vacate(slot);
    }
    return n;
  }

  /** `slot` takes no more work: the next worker started replaces it. */
  #vacate(slot: Slot): void {
    if (slot.vacated) return;
    slot.vacated = true;
    this.#vacated.push(slot);
  }

  #spawn(): void {
    const replacing = this.#vacated.shift();
    if (replacing !== undefined) {
      replacing.replaced = true;
      this.#stats.replaced();
    }
    const slot = new Slot(this.codec, this.#maxTasksPerChild, this.#fallback !== undefined && !this.#movedToFallback);
    this.slots.add(slot);
    // The plugins registered by now: the initializer's arguments may hold their handles.
    slot.pluginsKnown = pluginCount();
    const init = slot.pluginsKnown === 0 ? this.#init : { ...this.#init, plugins: pluginModules(0) };
    slot.handle = this.#executor.start(init, {
      message: (data) => this.#events.message(slot, data),
      exit: (info) => this.#events.exit(slot, info),
    });
    if (this.#referenced) slot.handle.ref();
    else slot.handle.unref();
  }

  /**
   * Asks a worker that has nothing in flight to exit (STOP); one still starting is terminated,
   * as is one that cannot be told.
   */
  retire(slot: Slot): void {
    if (slot.state === SlotState.Terminating || slot.state === SlotState.Retiring) return;
    if (slot.state === SlotState.Starting) {
      this.terminate(slot);
      return;
    }
    slot.state = SlotState.Retiring;
    try {
      slot.handle.send([MessageKind.Stop]);
    } catch {
      this.terminate(slot);
    }
  }

  /** Retires every worker that has nothing in flight, those still starting included. */
  retireIdle(): void {
    for (const slot of this.slots) if (slot.inFlight.length === 0) this.retire(slot);
  }

  /**
   * Tells a worker, before its next RUN, of the plugins registered since it heard of the others
   * (plugins.ts). A worker that cannot be told is going: the RUN's own send says so.
   */
  announcePlugins(slot: Slot): void {
    const count = pluginCount();
    if (slot.pluginsKnown === count) return;
    try {
      slot.handle.send([MessageKind.Plugins, pluginModules(slot.pluginsKnown)]);
      slot.pluginsKnown = count;
    } catch {
      // (see above)
    }
  }

  /**
   * Terminates a worker now; its exit is expected. Its plugins hear at once that it is gone: a
   * Manager's queue must not hand the next item to a get() of the task just stopped.
   */
  terminate(slot: Slot): void {
    if (slot.state === SlotState.Terminating) return;
    slot.state = SlotState.Terminating;
    slot.sides?.close();
    slot.handle.terminate().catch(() => undefined);
  }

  /** A worker has exited: it is forgotten, and so is what it had open. */
  remove(slot: Slot): void {
    this.#vacate(slot);
    this.slots.delete(slot);
    slot.clearStartTimer();
    slot.sides?.close();
  }

  /**
   * Lets the workers keep the program alive (there is work, or the pool is shutting down), or
   * not (a running pool with nothing to do).
   */
  setReferenced(referenced: boolean): void {
    if (this.#referenced === referenced) return;
    this.#referenced = referenced;
    for (const slot of this.slots) {
      if (referenced) slot.handle.ref();
      else slot.handle.unref();
    }
  }

  /** Whether `error`, from `slot` (a task's or its initializer's), calls for the fallback. */
  fallbackTakes(slot: Slot, error: unknown): boolean {
    return slot.beforeFallback && this.#fallback?.when(error) === true;
  }

  /**
   * Moves the pool to its fallback executor, once: the current workers get no more work and
   * retire when they have finished what they have; new workers start on the fallback.
   */
  moveToFallback(error: unknown): void {
    const fallback = this.#fallback;
    if (fallback === undefined || this.#movedToFallback) return;
    this.#movedToFallback = true;
    const from = this.#context;
    void this.#executor.shutdown?.();
    this.#executor = fallback.executor;
    this.#context = fallback.context;
    const reason = messageOf(error);
    process.emitWarning(`mpool: a task or initializer cannot run in a ${from} worker (${reason}); this pool now runs on '${fallback.context}' processes`, { code: 'MPOOL_CONTEXT_FALLBACK' });
    for (const slot of this.slots) {
      slot.quota = 0;
      if (slot.inFlight.length === 0) this.retire(slot);
    }
    this.fill();
  }

  /** Releases what the executor holds beyond its workers; the pool is done. */
  shutdown(): void | Promise<void> {
    return this.#executor.shutdown?.();
  }
}
