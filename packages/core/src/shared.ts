/**
 * Shared objects: the parent exposes an object; a task gets a proxy to it. The object itself
 * never travels: a handle does (`{ __mpoolShared: id, kind }`, plain data that any backend
 * copies), and the worker's run loop turns each handle in a task's arguments into a comlink proxy
 * whose calls travel as `[RPC, id, data]` frames on the worker's own channel, beside the tasks, so
 * the same code works over a thread's port and a process's socket.
 *
 *   worker: proxy.m(x) ─[RPC id {APPLY m x}]─▶ pool: Connection ─▶ expose(view of object id)
 *   worker: ◀─[RPC id {result}]─────────────────────────────────────────┘
 */

/** The key that marks a handle. */
export const SHARED_KEY = '__mpoolShared';

/** How the worker presents a handle: as a plain proxy, or as a lock or a queue whose waits belong to a task (see worker/shared-presenters.ts). */
export type SharedKind = 'object' | 'lock' | 'queue';

/** What travels in place of a shared object. */
export interface SharedHandle {
  readonly [SHARED_KEY]: number;
  readonly kind: SharedKind;
}

export function isSharedHandle(value: unknown): value is SharedHandle {
  return typeof value === 'object' && value !== null && typeof (value as SharedHandle)[SHARED_KEY] === 'number';
}
