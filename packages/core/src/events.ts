/**
 * A pool's events, in Node's usual form (`pool.on(name, listener)`), typed by PoolEventMap, and
 * `pool.drained()`. Nothing listens by default: the scheduler hears of this only once something
 * listens or waits (PoolObserver, stats.ts), and an event nobody listens to costs nothing more.
 *
 * Listeners are called on a microtask after the pool has done what the event reports, never in
 * the middle of it, so that a listener may call the pool (submit work, terminate it). A listener
 * that throws does not stop the others, nor the pool: its error is reported as an uncaught
 * exception, as Node reports a throwing listener, and as mpool reports a throwing callback.
 */
import { reportLater } from './call-options.js';
import type { WorkerExit } from './errors.js';
import type { WorkerExitInfo } from './executor.js';
import type { Job } from './job.js';
import type { PoolObserver } from './stats.js';

/** A worker that has started: it is ready for tasks, its initializer (if any) having run. */
export interface WorkerStartEvent {
  /** The worker's thread id or process id (on 'bullmq', its lane's number). */
  readonly id: number;
}

/** A worker that has exited, and how. */
export interface WorkerExitEvent extends WorkerExit {
  /** The worker's thread id or process id (on 'bullmq', its lane's number). */
  readonly id: number;
  /** The worker's own uncaught error, or why it could not start, when there was one. */
  readonly error?: unknown;
  /** It exited when the pool had not asked it to: a crash, `process.exit()`, a signal, running out of memory. */
  readonly crashed: boolean;
  /**
   * A worker was started in its place by the time it exited: after a crash, a timeout or an
   * abort, its `maxtasksperchild`, or the 'auto' context's move to processes. Not after `close()`
   * or `terminate()`.
   */
  readonly replaced: boolean;
}

/** The task whose failure a `'taskFailed'` event reports. */
export interface TaskFailedEvent {
  /** Its function: `exportName` and module for a `task()` reference, the name of a plain function. */
  readonly task: string;
  /** Its items: 1 for `apply`, the chunk's length for a map's chunk. */
  readonly items: number;
}

/**
 * A pool's events and their listeners' arguments.
 * @example
 * pool.on('workerExit', (worker) => { if (worker.crashed) console.warn(`worker ${worker.id} died`, worker); });
 * pool.on('taskFailed', (error, { task }) => console.error(`${task} failed:`, error));
 */
export interface PoolEventMap {
  /** A worker has started and is ready for tasks. */
  workerStart: [worker: WorkerStartEvent];
  /** A worker has exited. */
  workerExit: [worker: WorkerExitEvent];
  /** A task (for maps: a chunk) failed: with its own error, its worker's death, a timeout, an abort, `terminate()`. */
  taskFailed: [error: unknown, task: TaskFailedEvent];
  /** No task waits for a worker any more: every task submitted has been sent to one (see `pool.drained()`). */
  drain: [];
}

/** The name of one of a pool's events. */
export type PoolEventName = keyof PoolEventMap;

const EVENT_NAMES: readonly PoolEventName[] = ['workerStart', 'workerExit', 'taskFailed', 'drain'];

/** A listener of the pool's event `E`. */
export type PoolEventListener<E extends PoolEventName> = (...args: PoolEventMap[E]) => void;

interface Registration {
  readonly listener: (...args: never) => void;
  readonly once: boolean;
}

/** How a `'taskFailed'` event names a job's function. */
function taskName(job: Job): string {
  const spec = job.fn.spec;
  return spec.kind === 'module' ? `${spec.exportName} (${spec.module})` : spec.label;
}

/** One pool's listeners and drain waiters; the scheduler's observer once attached. */
export class PoolEvents implements PoolObserver {
  readonly #listeners = new Map<PoolEventName, Registration[]>();
  /** `drained()` calls waiting for the queue to drain. */
  #drainWaiters: (() => void)[] = [];
  /** A 'drain' is on its way to the listeners: another before it is delivered adds nothing. */
  #drainQueued = false;

  /** Adds `listener`; `once`: it is removed when first called. */
  add(event: PoolEventName, listener: (...args: never) => void, once: boolean): void {
    if (!EVENT_NAMES.includes(event)) {
      throw new TypeError(`Expected one of the pool's events (${EVENT_NAMES.map((name) => `'${name}'`).join(', ')}), got \`${String(event)}\``);
    }
    if (typeof listener !== 'function') throw new TypeError(`Expected the listener of '${event}' to be a function, got \`${typeof listener}\``);
    let list = this.#listeners.get(event);
    if (list === undefined) this.#listeners.set(event, (list = []));
    list.push({ listener, once });
  }

  /** Removes `listener` from `event` (the one added last, when it was added more than once). */
  remove(event: PoolEventName, listener: (...args: never) => void): void {
    const list = this.#listeners.get(event);
    if (list === undefined) return;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i]!.listener === listener) {
        list.splice(i, 1);
        return;
      }
    }
  }

  /** How many listeners `event` has. */
  count(event: PoolEventName): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** Resolves when the queue next drains. */
  nextDrain(): Promise<void> {
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  // ── PoolObserver: what the scheduler reports ──────────────────────────────────────────────────

  workerStarted(id: number): void {
    this.#emit('workerStart', [{ id }]);
  }

  workerExited(id: number, info: WorkerExitInfo, crashed: boolean, replaced: boolean): void {
    if (this.count('workerExit') === 0) return;
    const event: WorkerExitEvent = info.error === undefined
      ? { id, code: info.code, signal: info.signal, crashed, replaced }
      : { id, code: info.code, signal: info.signal, error: info.error, crashed, replaced };
    this.#emit('workerExit', [event]);
  }

  taskFailed(job: Job, error: unknown): void {
    if (this.count('taskFailed') === 0) return;
    this.#emit('taskFailed', [error, { task: taskName(job), items: job.weight }]);
  }

  drained(): void {
    if (this.#drainQueued || (this.#drainWaiters.length === 0 && this.count('drain') === 0)) return;
    this.#drainQueued = true;
    queueMicrotask(() => {
      this.#drainQueued = false;
      const waiters = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const wake of waiters) wake();
      this.#deliver('drain', []);
    });
  }

  #emit<E extends PoolEventName>(event: E, args: PoolEventMap[E]): void {
    if (this.count(event) === 0) return;
    queueMicrotask(() => this.#deliver(event, args));
  }

  /** Calls `event`'s listeners as they are now, each on its own: one that throws stops no other. */
  #deliver<E extends PoolEventName>(event: E, args: PoolEventMap[E]): void {
    const list = this.#listeners.get(event);
    if (list === undefined || list.length === 0) return;
    for (const registration of [...list]) {
      if (registration.once) {
        const at = list.indexOf(registration);
        if (at < 0) continue; // an earlier listener removed it
        list.splice(at, 1);
      }
      try {
        (registration.listener as (...values: PoolEventMap[E]) => void)(...args);
      } catch (error) {
        reportLater(error);
      }
    }
  }
}
