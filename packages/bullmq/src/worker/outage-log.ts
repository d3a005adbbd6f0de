/**
 * What an mpool-worker says when Redis goes away and comes back: once each way, in words, however
 * many of its connections fail and however often they try again (ioredis reports every failed
 * reconnection attempt of every connection as an error). Other errors are said as they come.
 */
import type { Redis } from 'ioredis';
import { isConnectionError } from '../connection.js';

/** What one mpool-worker says of its Redis (see the header). */
export class OutageLog {
  /** Redis, as people read it. */
  readonly #redis: string;
  /** What the worker serves, for the line that says it is back. */
  readonly #serves: string;
  readonly #log: (message: string) => void;
  /** Errors before the worker serves are its start's, which its start reports. */
  #serving = false;
  #down = false;

  constructor(redis: string, serves: string, log: (message: string) => void) {
    this.#redis = redis;
    this.#serves = serves;
    this.#log = log;
  }

  /** The worker serves its queue: from now on, an outage is said. */
  serving(): void {
    this.#serving = true;
  }

  /** Hears `client`'s errors (all of them about its connection) and its returns. */
  watch(client: Redis): void {
    client.on('error', (error: Error) => this.#lost(error));
    client.on('ready', () => this.#back());
  }

  /** An error from BullMQ: part of an outage, or another error, said as it comes. */
  error(error: Error): void {
    if (isConnectionError(error)) this.#lost(error);
    else this.#log(`BullMQ: ${error.message}`);
  }

  /** Whether Redis is away now, as far as the worker has seen. */
  get down(): boolean {
    return this.#down;
  }

  #lost(error: Error): void {
    if (this.#down || !this.#serving) return;
    this.#down = true;
    this.#log(`lost Redis at ${this.#redis} (${error.message}); trying to reconnect until it is back`);
  }

  #back(): void {
    if (!this.#down) return;
    this.#down = false;
    this.#log(`Redis at ${this.#redis} is back: serving ${this.#serves} again`);
  }
}
