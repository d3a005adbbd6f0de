/**
 * What this thread keeps of the worker processes it started, whatever executor started them: the
 * live ones, killed if the process exits; with the last of them goes the directory of their
 * sockets (socket-dir.ts).
 */
import type { ChildLink } from './child-link.js';
import { standDown } from './reaper.js';
import { removeSocketDir } from './socket-dir.js';

/** Every child started here and still alive, to kill if the process exits. */
const living = new Set<ChildLink>();
let exitHookInstalled = false;

/** Keeps `child` among the living until `forget`. */
export function adopt(child: ChildLink): void {
  killAllOnExit();
  living.add(child);
}

/** `child` is gone; with the last one, so is the sockets' directory. */
export function forget(child: ChildLink): void {
  living.delete(child);
  if (living.size === 0) removeSocketDir();
}

function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Runs on a normal exit and after an uncaught exception alike: no child outlives its parent.
  process.on('exit', () => {
    for (const child of living) child.kill('SIGKILL');
    standDown();
    removeSocketDir();
  });
}
