/**
 * A worker process as the executor sees it, wherever it was started: forked by this thread
 * (`forkHere`), or, in a worker thread, by the thread that started that one (child-host.ts).
 */
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { unwatch, watch } from './reaper.js';

const CHILD_ENTRY = join(__dirname, 'child.js');

/** How a child ended: its exit code, or the signal that ended it. */
export type ChildEndListener = (code: number | null, signal: NodeJS.Signals | null) => void;

/** One worker process, as ChildProcess sees it, cut to what the executor uses. */
export interface ChildLink {
  /** Its pid; undefined until it is known (or when it could not be started). */
  readonly pid: number | undefined;
  /** Set once it has exited, as ChildProcess sets them. */
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  /** Whether its IPC channel is open. */
  readonly connected: boolean;
  kill(signal: NodeJS.Signals): void;
  /** Lets it (the process and its IPC channel) keep this thread alive, or not. */
  ref(): void;
  unref(): void;
  /** It has started, with pid `pid`. */
  onSpawn(listener: (pid: number) => void): void;
  /** A message it sent on its IPC channel. */
  onMessage(listener: (message: unknown) => void): void;
  /** It could not be started, or a signal could not be sent to it. */
  onError(listener: (error: unknown) => void): void;
  /** Its IPC channel closed. */
  onDisconnect(listener: () => void): void;
  /** It has exited ('exit'). */
  onExit(listener: ChildEndListener): void;
  /** It has exited and its channel and pipes are closed ('close'): the last thing it does. */
  onClose(listener: ChildEndListener): void;
}

/**
 * Forks `child.js` with `args` (its socket's path first), from this thread, which then minds it:
 * it is on the list of this thread's reaper (reaper.ts) until it exits. Its stdio: the parent's
 * 0-2, then the IPC channel. Throws when the process cannot be started at all.
 */
export function forkHere(args: readonly string[], execArgv: readonly string[], env?: NodeJS.ProcessEnv): ChildLink {
  const child = fork(CHILD_ENTRY, args, {
    execArgv: [...execArgv],
    env,
    serialization: 'advanced',
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  });
  const pid = child.pid;
  if (pid !== undefined) {
    watch(pid, dirname(args[0]!));
    child.once('exit', () => unwatch(pid));
  }
  return {
    get pid() {
      return child.pid;
    },
    get exitCode() {
      return child.exitCode;
    },
    get signalCode() {
      return child.signalCode;
    },
    get connected() {
      return child.connected;
    },
    kill: (signal) => {
      child.kill(signal);
    },
    ref: () => {
      child.ref();
      child.channel?.ref();
    },
    unref: () => {
      child.unref();
      child.channel?.unref();
    },
    onSpawn: (listener) => child.once('spawn', () => listener(child.pid as number)),
    onMessage: (listener) => child.on('message', listener),
    onError: (listener) => child.on('error', listener),
    onDisconnect: (listener) => child.on('disconnect', listener),
    onExit: (listener) => child.once('exit', listener),
    onClose: (listener) => child.once('close', listener),
  };
}
