/**
 * The directory of the workers' sockets: made, in the system's temporary folder, the first time
 * this thread needs a socket's path, only its user may enter it, and it is removed once the last
 * of this thread's worker processes is gone (children.ts says when), or by the last worker to go
 * when the pool's process died without cleaning up (`leaveSocketDir`).
 */
import { existsSync, mkdtempSync, rmdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The longest directory that leaves room for a socket's name: a socket's path is limited to about 100 bytes. */
const MAX_DIR_LENGTH = 80;

/** Where this thread's children's sockets are made, while there is such a directory. */
let socketDir: string | undefined;
let socketCount = 0;

/** A path for the next child's socket to listen on. */
export function nextSocketPath(): string {
  socketCount++;
  if (process.platform === 'win32') {
    // Required here, not above: a worker process loads this module too, and node:crypto takes it
    // some milliseconds that it spends on nothing else.
    const { randomBytes } = require('node:crypto') as typeof import('node:crypto');
    return `\\\\.\\pipe\\mpool-${process.pid}-${socketCount}-${randomBytes(6).toString('hex')}`;
  }
  // Made again if something (a cleaner of the temporary folder) removed it since.
  if (socketDir === undefined || !existsSync(socketDir)) socketDir = makeSocketDir();
  return join(socketDir, `${socketCount}.sock`);
}

/**
 * Removes the sockets' directory, with any socket a child left in it (one killed before the pool
 * connected). Done when the last child is gone, and at exit: a program that keeps no process
 * workers keeps no directory, even where its 'exit' listeners never run (a test runner's
 * sandbox, a SIGKILL).
 */
export function removeSocketDir(): void {
  if (socketDir === undefined) return;
  try {
    rmSync(socketDir, { recursive: true, force: true });
  } catch {
    // A directory left in the system's temporary folder harms nothing.
  }
  socketDir = undefined;
}

/**
 * What a worker leaves behind once its pool's process is gone, which can no longer clean up:
 * its socket's path, if the pool never connected to it, and the sockets' directory, if that is
 * empty now. Each worker removes its own path before it tries the directory, so the last one to
 * go removes it.
 */
export function leaveSocketDir(socketPath: string): void {
  if (process.platform === 'win32') return; // a named pipe leaves no file
  try {
    unlinkSync(socketPath);
  } catch {
    // connected, and so removed already
  }
  try {
    rmdirSync(dirname(socketPath));
  } catch {
    // another worker's socket is still there (it removes the directory), or it is gone already
  }
}

/**
 * A directory for sockets that only this user may enter (mkdtemp's mode), in the system's
 * temporary folder, or in /tmp where that cannot be used or its name is too long.
 */
function makeSocketDir(): string {
  const tried: string[] = [];
  for (const parent of new Set([tmpdir(), '/tmp'])) {
    try {
      const dir = mkdtempSync(join(parent, 'mpool-'));
      if (dir.length <= MAX_DIR_LENGTH) return dir;
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
