/** @mpool/manager: objects in the parent shared with tasks through comlink proxies. */
export { Manager, type Shared } from './manager.js';
export { ManagerClosedError } from './errors.js';
/** The parent's end of one worker's calls on shared objects (for tests that watch it). */
export { Connection } from './registry.js';
export type { Remote } from './remote.js';
export { SharedDict } from './shared-dict.js';
export { SharedList } from './shared-list.js';
export { SharedLock, type LockHold } from './shared-lock.js';
export { SharedQueue } from './shared-queue.js';
export { SharedValue } from './shared-value.js';
export type { SharedObject } from './shared-object.js';
