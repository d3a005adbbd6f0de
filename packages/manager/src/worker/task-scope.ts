/**
 * What a worker's calls on shared objects belong to: the task that made them, or the worker
 * itself (the initializer's calls, through proxies that live as long as the worker). When a task
 * ends, what it left behind (a wait still pending, a lock still held) is let go: see
 * presenters.ts.
 */
export class TaskScope {
  /** What to do when the task ends; made on the first wait, as most tasks never wait. */
  #cleanups: Set<() => void> | undefined;

  /** `endsWithTask` false: the worker's own scope, which never ends while the worker lives. */
  constructor(readonly endsWithTask: boolean) {}

  /** Runs `cleanup` when the task ends, unless `off(cleanup)` comes first. */
  onEnd(cleanup: () => void): void {
    if (this.endsWithTask) (this.#cleanups ??= new Set()).add(cleanup);
  }

  off(cleanup: () => void): void {
    this.#cleanups?.delete(cleanup);
  }

  /** The task has ended: run its cleanups, in the order they were registered. */
  end(): void {
    const cleanups = this.#cleanups;
    this.#cleanups = undefined;
    if (cleanups !== undefined) for (const cleanup of cleanups) cleanup();
  }
}

/** The worker's own scope. */
export const WORKER_SCOPE = new TaskScope(false);
