/**
 * Where Redis is: a URL (`redis://`, `rediss://` for TLS) or ioredis options, checked before
 * anything connects, and described for messages without its password.
 */
import { Redis, type RedisOptions } from 'ioredis';

/** Redis URL schemes ioredis takes: plain and TLS. */
const URL_SCHEMES = new Set(['redis:', 'rediss:']);

/** Where to reach Redis: a `redis://` or `rediss://` URL, or ioredis options (host, port, path, tls, …). */
export type Connection = string | RedisOptions;

/**
 * ioredis retries a lost connection with growing delays; this caps them, so that a worker whose
 * Redis restarts is back within a couple of seconds.
 */
const MAX_RETRY_DELAY_MS = 2000;
/** The first retry comes this soon, then each waits this much longer. */
const RETRY_STEP_MS = 50;
/**
 * How long a disconnecting client waits for its socket to close before destroying it (ioredis's
 * default is 2 s). A socket whose Redis died never closes again, and the wait would keep a
 * program alive that long after its pool is done.
 */
const DISCONNECT_LIMIT_MS = 100;

/** Error codes of a connection that failed or broke: Redis is away, not a command that failed. */
const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);
/** What ioredis and BullMQ say of a command cut off by a connection that closed. */
const CONNECTION_CLOSED = /^Connection is closed\.?$|connection close/;

/** Whether `error` says that Redis could not be reached, rather than that a command failed. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return (code !== undefined && CONNECTION_ERROR_CODES.has(code)) || CONNECTION_CLOSED.test(error.message);
}

/** Throws `TypeError` unless `connection` is a Redis URL or an options object. */
export function checkConnection(connection: unknown, name = 'connection'): asserts connection is Connection {
  if (typeof connection === 'string') {
    let url: URL;
    try {
      url = new URL(connection);
    } catch {
      throw new TypeError(`Expected \`${name}\` to be a redis:// or rediss:// URL, got \`${connection}\``);
    }
    if (!URL_SCHEMES.has(url.protocol)) {
      throw new TypeError(`Expected \`${name}\` to be a redis:// or rediss:// URL, got the scheme \`${url.protocol}\` in \`${describeConnection(connection)}\``);
    }
    if (url.hostname === '') throw new TypeError(`Expected \`${name}\` to name a host, got \`${describeConnection(connection)}\``);
    return;
  }
  if (typeof connection !== 'object' || connection === null || Array.isArray(connection)) {
    throw new TypeError(`Expected \`${name}\` to be a redis:// URL or ioredis options, got \`${connection === null ? 'null' : typeof connection}\``);
  }
}

/** The connection as people read it: the URL with its password hidden, or host and port. */
export function describeConnection(connection: Connection): string {
  if (typeof connection === 'string') {
    try {
      const url = new URL(connection);
      if (url.password !== '') url.password = '***';
      return url.href;
    } catch {
      return connection;
    }
  }
  if (connection.path !== undefined) return `unix:${connection.path}`;
  const scheme = connection.tls === undefined ? 'redis' : 'rediss';
  return `${scheme}://${connection.host ?? '127.0.0.1'}:${connection.port ?? 6379}`;
}

/**
 * A new ioredis client. `maxRetriesPerRequest: null`: BullMQ's blocking reads must wait out a
 * reconnection rather than fail; `lazyConnect`: connecting is the caller's to start and watch.
 */
export function createClient(connection: Connection): Redis {
  const options: RedisOptions = {
    maxRetriesPerRequest: null,
    lazyConnect: true,
    disconnectTimeout: DISCONNECT_LIMIT_MS,
    retryStrategy: (times) => Math.min(times * RETRY_STEP_MS, MAX_RETRY_DELAY_MS),
  };
  return typeof connection === 'string' ? new Redis(connection, options) : new Redis({ ...connection, ...options });
}

/**
 * Whether `client` keeps the program alive: through its socket, or, while Redis is away, its
 * timer for the next attempt to reconnect (which ioredis does not make public). Call it again
 * on 'connect' and 'reconnecting', when either is new.
 */
export function keepAlive(client: Redis, keep: boolean): void {
  const stream = client.stream as { ref?: () => void; unref?: () => void } | undefined;
  const retry = (client as unknown as { reconnectTimeout?: NodeJS.Timeout | null }).reconnectTimeout ?? undefined;
  if (keep) {
    stream?.ref?.();
    retry?.ref();
  } else {
    stream?.unref?.();
    retry?.unref();
  }
}
