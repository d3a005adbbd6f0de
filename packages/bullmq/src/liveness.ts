/**
 * Whether a pool's Redis still answers. ioredis reconnects by itself and holds commands while
 * Redis is away, so a lost Redis shows as commands that never answer, not as errors. While the
 * pool has work out, its sweep probes Redis; a probe left unanswered for the pool's startTimeout
 * means Redis is lost: the pool's work out fails with ConnectionLostError, and so does new work,
 * until Redis answers again. Each reconnection is reported, with whether Redis restarted (its
 * `run_id` changed): a Redis restarted without its data has lost the pool's jobs.
 *
 *   sweep ─▶ probe() ─▶ PING ─┬─ answered: all is well
 *                             └─ unanswered for limitMs ─▶ lost(ConnectionLostError)
 *   'ready' after a drop ─▶ INFO server ─▶ back(restarted)
 */
import { ConnectionLostError } from '@mpool/core';
import type { Redis } from 'ioredis';

/** What the link is told. */
export interface LivenessHooks {
  /** Redis has not answered for the limit: the work out fails with `error`. */
  lost(error: ConnectionLostError): void;
  /** Redis answers again after a drop; `restarted` when it is a new run of the server. */
  back(restarted: boolean): Promise<void>;
}

/**
 * The server's run id, which changes each time Redis starts; '' where an ACL refuses INFO (its
 * restarts then go unseen).
 */
async function runIdOf(client: Redis): Promise<string> {
  let info: string;
  try {
    info = await client.info('server');
  } catch (error) {
    if (error instanceof Error && error.message.includes('NOPERM')) return '';
    throw error;
  }
  return /run_id:(\w+)/.exec(info)?.[1] ?? '';
}

/** Watches one client's Redis for a pool's link (see the header). */
export class Liveness {
  readonly #client: Redis;
  readonly #limitMs: number;
  readonly #where: string;
  readonly #hooks: LivenessHooks;
  /** The run id of the server first reached; undefined until then. */
  #runId: string | undefined;
  #probing = false;
  /** Runs from the first probe left unanswered; cleared by an answer. */
  #giveUp: NodeJS.Timeout | undefined;
  #lastError: Error | undefined;
  #lost: ConnectionLostError | undefined;
  /** The link dropped, and its return has not been dealt with yet (see `steady`). */
  #dropped = false;
  #closed = false;

  constructor(client: Redis, limitMs: number, where: string, hooks: LivenessHooks) {
    this.#client = client;
    this.#limitMs = limitMs;
    this.#where = where;
    this.#hooks = hooks;
    client.on('error', (error: Error) => {
      this.#lastError = error;
    });
    client.on('close', () => {
      if (this.#runId !== undefined) this.#dropped = true;
    });
    client.on('ready', () => void this.#reconnected());
  }

  /**
   * Whether what Redis says of the pool's jobs can be trusted: false from a drop of the link until
   * its return has been dealt with (a new run of Redis may have lost jobs that the link adds again).
   */
  get steady(): boolean {
    return !this.#dropped;
  }

  /** Why the pool's work fails now, while Redis is lost; undefined while it answers. */
  get lost(): ConnectionLostError | undefined {
    return this.#lost;
  }

  /** Learns which run of Redis the pool started on, once connected. */
  async identify(): Promise<void> {
    this.#runId = await runIdOf(this.#client);
  }

  /**
   * Asks Redis for an answer, unless a question is out; starts the clock on its silence. With
   * `keepAlive` (the pool waits on work), the clock keeps the program alive until it runs out.
   */
  probe(keepAlive: boolean): void {
    if (this.#probing || this.#lost !== undefined || this.#closed) return;
    this.#probing = true;
    this.#giveUp ??= setTimeout(() => this.#loseIt(), this.#limitMs);
    if (keepAlive) this.#giveUp.ref();
    else this.#giveUp.unref();
    this.#client.ping().then(() => this.#answered(), () => undefined).finally(() => {
      this.#probing = false;
    });
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#giveUp);
  }

  #answered(): void {
    clearTimeout(this.#giveUp);
    this.#giveUp = undefined;
    this.#lastError = undefined;
    this.#lost = undefined;
  }

  #loseIt(): void {
    if (this.#closed) return;
    const last = this.#lastError === undefined ? '' : `; the last error: ${this.#lastError.message}`;
    this.#lost = new ConnectionLostError(
      `mpool lost Redis for ${this.#where}: no answer for ${this.#limitMs} ms (the pool's startTimeout)${last}. The tasks that were out may have run, or may still run, on a worker; new work fails the same way until Redis answers again`,
      this.#lastError === undefined ? undefined : { cause: this.#lastError },
    );
    this.#hooks.lost(this.#lost);
  }

  /** A reconnection (not the first connection): Redis answers again, perhaps as a new run. */
  async #reconnected(): Promise<void> {
    if (this.#runId === undefined || this.#closed) return;
    let runId: string;
    try {
      runId = await runIdOf(this.#client);
    } catch {
      return; // dropped again at once: the next 'ready' tells
    }
    if (this.#closed) return;
    const restarted = runId !== this.#runId;
    this.#runId = runId;
    this.#answered();
    await this.#hooks.back(restarted);
    if (this.#client.status === 'ready') this.#dropped = false;
  }
}
