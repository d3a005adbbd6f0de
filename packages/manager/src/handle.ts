/**
 * What a shared object is outside the parent: a handle (`{ __mpoolShared: id, kind }`), plain
 * data that any backend copies. The object itself never travels. The Manager's worker plugin
 * (worker/index.ts) turns each handle in a task's arguments into a comlink proxy whose calls
 * travel on a side channel of the worker's own connection (see @mpool/core's plugins.ts), beside
 * the tasks, so the same code works over a thread's port and a process's socket.
 *
 *   worker: proxy.m(x) ─[SIDE n id {APPLY m x}]─▶ pool: Connection ─▶ expose(view of object id)
 *   worker: ◀─[SIDE n id {result}]───────────────────────────────┘
 */

/** The key that marks a handle. */
export const SHARED_KEY = '__mpoolShared';

/**
 * How the worker presents a handle: as a plain proxy, or as a lock or a queue whose waits belong
 * to a task (see worker/presenters.ts).
 */
export type SharedKind = 'object' | 'lock' | 'queue';

/** What travels in place of a shared object. */
export interface SharedHandle {
  readonly [SHARED_KEY]: number;
  readonly kind: SharedKind;
}

export function isSharedHandle(value: unknown): value is SharedHandle {
  return typeof value === 'object' && value !== null && typeof (value as SharedHandle)[SHARED_KEY] === 'number';
}
