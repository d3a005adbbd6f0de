/**
 * Child processes of a worker thread, started by the thread that started it. Only the thread
 * that starts a process hears its exit and reaps it (libuv's loop that spawned it): one started
 * by a worker thread that then ends, by itself or terminated, is left a zombie (or alive) for as
 * long as the program runs. So in a worker thread that mpool started (it has a `creatorPort`),
 * the executor asks the thread that started it to fork, over that port:
 *
 *   worker thread ──[SPAWN id args execArgv env]──────────────────────────────▶ creator: forks
 *                 ◀─[SPAWNED id pid] [MESSAGE id m] [ERROR id e] [DISCONNECT id] [CLOSE id code signal]
 *                 ──[KILL id signal]─────────────────────────────────────────▶
 *
 * When the worker thread is gone (its end of the port closes), its creator kills what it started
 * for it, reaps it, and removes its sockets' directory. A creator that is itself such a worker
 * thread passes the request on (launch), up to a thread that outlives them all.
 */
import type { MessagePort } from 'node:worker_threads';
import { creatorPort } from '@mpool/core';
import { forkHere, type ChildEndListener, type ChildLink } from './child-link.js';
import { adopt, forget } from './children.js';
import { leaveSocketDir } from './socket-dir.js';

const SPAWN = 0;
const KILL = 1;
const SPAWNED = 2;
const MESSAGE = 3;
const ERROR = 4;
const DISCONNECT = 5;
const CLOSE = 6;

/**
 * Starts a worker process running `child.js` with `args` (its socket's path first): from this
 * thread, or, in a worker thread mpool started, from the thread that started it.
 */
export function launch(args: readonly string[], execArgv: readonly string[], env?: NodeJS.ProcessEnv): ChildLink {
  const port = creatorPort();
  if (port === undefined) return forkHere(args, execArgv, env);
  client ??= new HostClient(port);
  // Its own environment, which a worker thread may hold apart from its creator's.
  return client.launch(args, execArgv, env ?? { ...process.env });
}

/**
 * Serves a worker thread's requests on `port` (its `creatorPort`): starts its child processes
 * here, and kills them once it is gone. Given to the thread backend as its `host`.
 */
export function serveChildProcesses(port: MessagePort): void {
  const started = new Map<number, ChildLink>();
  let workerGone = false;
  const post = (message: unknown[]): void => {
    if (workerGone) return;
    try {
      port.postMessage(message);
    } catch {
      // (An error it could not copy: its exit follows, and says enough.)
    }
  };
  const spawn = (id: number, args: string[], execArgv: string[], env: NodeJS.ProcessEnv): void => {
    let child: ChildLink;
    try {
      child = launch(args, execArgv, env);
    } catch (error) {
      post([ERROR, id, error]);
      post([CLOSE, id, null, null]);
      return;
    }
    // The worker thread keeps itself alive while it needs its children; they do not keep this one.
    child.unref();
    adopt(child);
    started.set(id, child);
    child.onSpawn((pid) => post([SPAWNED, id, pid]));
    child.onMessage((message) => post([MESSAGE, id, message]));
    child.onError((error) => post([ERROR, id, error]));
    child.onDisconnect(() => post([DISCONNECT, id]));
    child.onClose((code, signal) => {
      started.delete(id);
      forget(child);
      // The worker thread's sockets' directory: it can no longer remove it itself.
      if (workerGone) leaveSocketDir(args[0]!);
      post([CLOSE, id, code, signal]);
    });
  };
  port.on('message', (message: unknown) => {
    if (!Array.isArray(message)) return;
    if (message[0] === SPAWN) spawn(message[1] as number, message[2] as string[], message[3] as string[], message[4] as NodeJS.ProcessEnv);
    else if (message[0] === KILL) started.get(message[1] as number)?.kill(message[2] as NodeJS.Signals);
  });
  port.on('close', () => {
    workerGone = true;
    for (const child of started.values()) child.kill('SIGKILL');
  });
  port.unref(); // a worker thread that never asks keeps nothing alive
}

/** The worker thread's end: one per thread, on its creatorPort. */
let client: HostClient | undefined;

class HostClient {
  readonly #port: MessagePort;
  readonly #children = new Map<number, RemoteChild>();
  #nextId = 0;
  /** Children that keep this thread alive: the port does while there is one. */
  #referenced = 0;

  constructor(port: MessagePort) {
    this.#port = port;
    port.on('message', (message: unknown) => this.#deliver(message));
    port.unref();
  }

  launch(args: readonly string[], execArgv: readonly string[], env: NodeJS.ProcessEnv): ChildLink {
    const id = this.#nextId++;
    const child = new RemoteChild(id, this);
    this.#children.set(id, child);
    this.#port.postMessage([SPAWN, id, [...args], [...execArgv], env]);
    return child;
  }

  kill(id: number, signal: NodeJS.Signals): void {
    this.#port.postMessage([KILL, id, signal]);
  }

  retain(): void {
    if (this.#referenced++ === 0) this.#port.ref();
  }

  release(): void {
    if (--this.#referenced === 0) this.#port.unref();
  }

  #deliver(message: unknown): void {
    if (!Array.isArray(message)) return;
    const child = this.#children.get(message[1] as number);
    if (child === undefined) return;
    switch (message[0]) {
      case SPAWNED:
        child.spawned(message[2] as number);
        break;
      case MESSAGE:
        child.emit('message', message[2]);
        break;
      case ERROR:
        child.emit('error', message[2]);
        break;
      case DISCONNECT:
        child.disconnected();
        break;
      case CLOSE:
        this.#children.delete(message[1] as number);
        child.closed(message[2] as number | null, message[3] as NodeJS.Signals | null);
        break;
      default:
        break;
    }
  }
}

type Listeners = {
  spawn: ((pid: number) => void)[];
  message: ((message: unknown) => void)[];
  error: ((error: unknown) => void)[];
  disconnect: (() => void)[];
  exit: ChildEndListener[];
  close: ChildEndListener[];
};

/** A child started by the creator thread, as this thread sees it: what the creator tells of it. */
class RemoteChild implements ChildLink {
  pid: number | undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  connected = true;
  readonly #id: number;
  readonly #client: HostClient;
  #referenced = false;
  #closed = false;
  readonly #listeners: Listeners = { spawn: [], message: [], error: [], disconnect: [], exit: [], close: [] };

  constructor(id: number, client: HostClient) {
    this.#id = id;
    this.#client = client;
    this.ref(); // as a new ChildProcess: it keeps its thread alive until told otherwise
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.#closed) this.#client.kill(this.#id, signal);
  }

  ref(): void {
    if (this.#referenced || this.#closed) return;
    this.#referenced = true;
    this.#client.retain();
  }

  unref(): void {
    if (!this.#referenced) return;
    this.#referenced = false;
    this.#client.release();
  }

  onSpawn(listener: (pid: number) => void): void {
    this.#listeners.spawn.push(listener);
  }

  onMessage(listener: (message: unknown) => void): void {
    this.#listeners.message.push(listener);
  }

  onError(listener: (error: unknown) => void): void {
    this.#listeners.error.push(listener);
  }

  onDisconnect(listener: () => void): void {
    this.#listeners.disconnect.push(listener);
  }

  onExit(listener: ChildEndListener): void {
    this.#listeners.exit.push(listener);
  }

  onClose(listener: ChildEndListener): void {
    this.#listeners.close.push(listener);
  }

  emit(event: 'message' | 'error', value: unknown): void {
    for (const listener of this.#listeners[event]) listener(value);
  }

  spawned(pid: number): void {
    this.pid = pid;
    for (const listener of this.#listeners.spawn.splice(0)) listener(pid);
  }

  disconnected(): void {
    if (!this.connected) return;
    this.connected = false;
    for (const listener of this.#listeners.disconnect.splice(0)) listener();
  }

  closed(code: number | null, signal: NodeJS.Signals | null): void {
    this.#closed = true;
    this.exitCode = code;
    this.signalCode = signal;
    this.disconnected();
    this.unref();
    for (const listener of this.#listeners.exit.splice(0)) listener(code, signal);
    for (const listener of this.#listeners.close.splice(0)) listener(code, signal);
  }
}
