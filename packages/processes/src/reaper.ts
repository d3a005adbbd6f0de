/**
 * The reaper of the worker processes this thread starts: a small shell process beside them, which
 * kills them (SIGKILL) and removes the directories of their sockets once the pool's process is
 * gone, however it went: an uncaught error, SIGKILL, a signal sent to its pid alone, or the end of
 * this thread (it is the thread that starts them). A worker whose task never yields to its event
 * loop cannot hear its pool go; this process does not need it to.
 *
 *   this thread ──argument, then pipe──▶ sh: reads what to clean up (a list, sent whole at its
 *                                            start and at every change)
 *                             at the pipe's end, as the list last said: kill -KILL PIDS; rm -rf DIRS
 *
 * The pipe's other end is this thread's alone, so it ends when the thread or the process does, and
 * a second after the last worker is gone, told an empty list. No worker pays for it (no thread, no fd of
 * its own); the pool pays one `sh` while it has process workers. Python's multiprocessing has a
 * process of its own for the same reason: its resource tracker.
 *
 * A worker is struck off the list when this thread hears it exit, which is after it is reaped: a
 * pool whose process died in between would leave its pid on the list, free for the system to
 * reuse. Linux and macOS give out pids in order, so that pid would have to come round again
 * within that moment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { basename } from 'node:path';
import { inspect } from 'node:util';

/**
 * The reaper's script. Lines of the list: `k PIDS` (to kill) and `d DIR` (to remove), ended by `.`;
 * the first list comes as its argument, so that it has one from the moment it runs (a pool's
 * process killed just after it started a reaper, before writing to it, would otherwise leave
 * it nothing to do). Signals sent to the whole process group (a terminal's Ctrl-C) leave it
 * alone: it outlives the pool's process by design.
 */
const SCRIPT = `
trap '' INT HUP TERM QUIT
list=$1 next=
while IFS= read -r line; do
  if [ "$line" = . ]; then list=$next; next=; else next="$next$line
"; fi
done
printf '%s' "$list" | while IFS= read -r item; do
  case $item in
    k*) kill -KILL \${item#k } 2>/dev/null ;;
    d*) rm -rf -- "\${item#d }" ;;
  esac
done
`;

/** The shell that runs it: every POSIX system has one there. */
const SHELL = '/bin/sh';

/**
 * The reaper's environment: where `rm` is on every POSIX system, and nothing of this process's,
 * which a shell might otherwise act on.
 */
const REAPER_ENV = { PATH: '/usr/bin:/bin' };

/** A list that asks for nothing: what the reaper is told before it is let go. */
const NOTHING = '.\n';

/**
 * How long a reaper with no worker left to mind waits for the next one before it goes. A pool that
 * replaces its only worker (maxtasksperchild, a crash) starts the next one just after the last is
 * gone: without the wait, each replacement would start a reaper too (a fork of this process).
 */
const IDLE_REAPER_MS = 1_000;

/**
 * Reapers that may die unasked, one after another, before this thread stops starting them: one is
 * someone's mistake, several say that this system will not keep one alive.
 */
const MAX_LOST_REAPERS = 3;

/** The workers alive, by pid, with the directory of each one's socket ('' for none to remove). */
const watched = new Map<number, string>();
let reaper: ChildProcess | undefined;
/** The reaper could not be started: no sense trying again for every worker. */
let unavailable = false;
/** Reapers lost in a row: died while they had workers to mind. */
let lost = 0;
/** A reaper is to start once what runs now is done (tell). */
let startPending = false;
/** Set while the reaper has no worker to mind: it goes when this fires. */
let idleTimer: NodeJS.Timeout | undefined;

/**
 * Puts the worker `pid`, whose socket is made in `socketDir`, on the reaper's list, until its
 * `unwatch`.
 */
export function watch(pid: number, socketDir: string): void {
  if (process.platform === 'win32' || unavailable) return; // no shell to run it
  watched.set(pid, removable(socketDir) ? socketDir : '');
  tell();
}

/**
 * Whether the reaper may be told to remove `dir`: one of mpool's sockets' directories (socket-dir.ts
 * names them `mpool-…`), and one line of its list. A line break in a path (in TMPDIR, say) would
 * make the reaper read a line of it as another path.
 */
function removable(dir: string): boolean {
  return basename(dir).startsWith('mpool-') && !/[\n\r]/.test(dir);
}

/** The worker `pid` is gone: off the list; a while after the last one, the reaper goes too. */
export function unwatch(pid: number): void {
  if (!watched.delete(pid)) return;
  if (reaper === undefined) return;
  // The list is sent even when empty: a reaper told nothing to do does nothing if this process dies now.
  tell();
  if (watched.size === 0) {
    idleTimer = setTimeout(letGo, IDLE_REAPER_MS);
    idleTimer.unref();
  }
}

/**
 * This process is exiting and has killed its workers itself: the reaper is told that nothing is
 * left to do (the write goes out before this returns), so that it does not kill their pids again
 * once they are free.
 */
export function standDown(): void {
  watched.clear();
  reaper?.stdin?.write(NOTHING);
}

/** Ends the reaper, which has nothing to do. */
function letGo(): void {
  idleTimer = undefined;
  const leaving = reaper;
  if (leaving === undefined || watched.size > 0) return;
  reaper = undefined;
  lost = 0;
  leaving.stdin?.end(NOTHING);
}

/**
 * Sends the reaper the list as it is now. Where there is none, one starts once what runs now is
 * done: a pool forks its workers one after another in its constructor, and a reaper started
 * between two forks (a fork of this process too, some milliseconds of this thread) held back
 * every worker after the first. Until then a new worker has no one to kill it if this process
 * dies, nor needs one: it has run nothing yet, and exits when its IPC channel closes.
 */
function tell(): void {
  if (idleTimer !== undefined && watched.size > 0) {
    clearTimeout(idleTimer);
    idleTimer = undefined;
  }
  if (reaper !== undefined) {
    send(reaper);
  } else if (!unavailable && !startPending) {
    startPending = true;
    queueMicrotask(() => {
      startPending = false;
      if (reaper !== undefined || watched.size === 0) return;
      // It has the list from its start (its argument).
      reaper = startReaper();
    });
  }
}

/** Writes the list as it is now to `to`. */
function send(to: ChildProcess): void {
  // A small write to a pipe goes out at once, before this returns: the reaper has it even if this
  // process dies in the next instant.
  to.stdin?.write(`${listText()}.\n`);
}

/** The list as it is now, without its end. */
function listText(): string {
  const dirs = new Set([...watched.values()].filter((dir) => dir !== ''));
  const pids = watched.size === 0 ? '' : `k ${[...watched.keys()].join(' ')}\n`;
  return `${pids}${[...dirs].map((dir) => `d ${dir}\n`).join('')}`;
}

function startReaper(): ChildProcess | undefined {
  let started: ChildProcess;
  try {
    // `$0` names it in a list of processes; `$1` is the list as it is now.
    started = spawn(SHELL, ['-c', SCRIPT, 'mpool-reaper', listText()], { env: REAPER_ENV, stdio: ['pipe', 'ignore', 'ignore'] });
  } catch (error) {
    giveUp(error);
    return undefined;
  }
  started.on('error', (error) => {
    if (reaper === started) reaper = undefined;
    giveUp(error);
  });
  started.stdin?.on('error', () => undefined); // its exit says what matters
  started.on('exit', (code, signal) => {
    // Killed by someone else while it still had workers to mind: another takes its place.
    if (reaper !== started) return;
    reaper = undefined;
    if (++lost >= MAX_LOST_REAPERS) giveUp(new Error(`${MAX_LOST_REAPERS} reapers in a row ended early, the last with ${signal ?? `code ${code}`}`));
    else if (watched.size > 0) tell();
  });
  // It never keeps this process alive, nor does the pipe to it.
  started.unref();
  (started.stdin as { unref?: () => void } | null)?.unref?.();
  return started;
}

function giveUp(error: unknown): void {
  if (unavailable) return;
  unavailable = true;
  watched.clear();
  process.emitWarning(`mpool: the reaper of process workers could not start; they will not go when the pool's process dies without a word (${inspect(error)})`);
}
