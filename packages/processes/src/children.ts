/**
 * What this thread keeps of the worker processes it started, whatever executor started them: the
 * live ones, killed if the process exits, and the directory their sockets are made in, removed
 * once the last of them is gone.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildLink } from './child-link.js';

/** Every child started here and still alive, to kill if the process exits. */
const living = new Set<ChildLink>();
let exitHookInstalled = false;
/** Where the children's sockets are made: a directory of this thread's, only its user may enter. */
let socketDir: string | undefined;
let socketCount = 0;

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
    removeSocketDir();
  });
}

/**
 * Removes the sockets' directory, with any socket a child left in it (one killed before the pool
 * connected). Done when the last child is gone, and at exit: a program that keeps no process
 * workers keeps no directory, even where its 'exit' listeners never run (a test runner's
 * sandbox, a SIGKILL).
 */
function removeSocketDir(): void {
  if (socketDir === undefined) return;
  try {
    rmSync(socketDir, { recursive: true, force: true });
  } catch {
    // A directory left in the system's temporary folder harms nothing.
  }
  socketDir = undefined;
}

/** A path for the next child's socket to listen on. */
export function nextSocketPath(): string {
  socketCount++;
  if (process.platform === 'win32') return `\\\\.\\pipe\\mpool-${process.pid}-${socketCount}-${randomBytes(6).toString('hex')}`;
  // Made again if something (a cleaner of the temporary folder) removed it since.
  if (socketDir === undefined || !existsSync(socketDir)) socketDir = makeSocketDir();
  return join(socketDir, `${socketCount}.sock`);
}

/**
 * A directory for sockets that only this user may enter (mkdtemp's mode), in the system's
 * temporary folder, or in /tmp where that cannot be used or its name is too long (a socket's
 * path is limited to about 100 bytes).
 */
function makeSocketDir(): string {
  const tried: string[] = [];
  for (const parent of new Set([tmpdir(), '/tmp'])) {
    try {
      const dir = mkdtempSync(join(parent, 'mpool-'));
      if (dir.length <= 80) return dir;
      rmSync(dir, { recursive: true, force: true });
      tried.push(`${parent}: its name is too long for a socket's path`);
    } catch (error) {
      tried.push(`${parent}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(
    `mpool: process workers need a directory for their sockets, and none could be made (${tried.join('; ')}). Set TMPDIR to a directory this user can write to.`,
  );
}
