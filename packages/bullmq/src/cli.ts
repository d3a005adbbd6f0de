#!/usr/bin/env node
/**
 * `mpool-worker`: serves a queue of mpool tasks on this machine. Run it on every machine of the
 * cluster, from the same checkout as the pools that send the tasks.
 *
 *   mpool-worker --redis redis://host:6379 --queue mpool --concurrency 8 [--root DIR] [--context thread]
 *                [--lock-duration MS] [--stalled-interval MS] [--max-stalled N] [--no-inline]
 *
 * SIGTERM or SIGINT: takes no more jobs, finishes those in hand, then exits.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkConnection } from './connection.js';
import { checkQueueName, DEFAULT_QUEUE, DEFAULT_REDIS_URL } from './options.js';
import { LOCAL_CONTEXTS, type LocalContext } from './worker/local-pools.js';
import { serve } from './worker/serve.js';

const USAGE = `Usage: mpool-worker --redis URL [--queue NAME] [--concurrency N] [--root DIR] [--context CONTEXT]
                    [--lock-duration MS] [--stalled-interval MS] [--max-stalled N] [--no-inline]

Serves a queue of mpool tasks: runs them in a local pool of N workers.

  --redis URL              Redis, as redis://[user:password@]host:port[/db] or rediss:// for TLS
                           (default: MPOOL_REDIS_URL, else ${DEFAULT_REDIS_URL})
  --queue NAME             the queue to serve (default: ${DEFAULT_QUEUE})
  --concurrency N          tasks run at once, and workers of the local pool (default: the CPUs)
  --root DIR               where task modules are found: the pools' root on this machine (default: .)
  --context CONTEXT        where the local pool runs tasks: ${LOCAL_CONTEXTS.join(', ')} (default: thread)
  --lock-duration MS       BullMQ's lock on a running job, renewed while it runs (default: 30000)
  --stalled-interval MS    how often jobs whose worker died are looked for (default: 30000)
  --max-stalled N          how often a job may lose its worker before it fails (default: 1)
  --no-inline              run only task modules under --root: refuse inline functions and data: modules
`;

/** Exit code of a command line that cannot be used, as the shells' builtins use it. */
const USAGE_EXIT_CODE = 2;

class UsageError extends Error {}

function integer(flags: Record<string, unknown>, name: string, min: number): number | undefined {
  const text = flags[name];
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${name} takes an integer ≥ ${min}, got '${String(text)}'`);
  return value;
}

function readFlags(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        redis: { type: 'string' },
        queue: { type: 'string' },
        concurrency: { type: 'string' },
        root: { type: 'string' },
        context: { type: 'string' },
        'lock-duration': { type: 'string' },
        'stalled-interval': { type: 'string' },
        'max-stalled': { type: 'string' },
        'no-inline': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const flags = parsed.values;
  const connection = flags.redis ?? process.env.MPOOL_REDIS_URL ?? DEFAULT_REDIS_URL;
  const queue = flags.queue ?? DEFAULT_QUEUE;
  try {
    checkConnection(connection, '--redis');
    checkQueueName(queue, '--queue');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const context = (flags.context ?? 'thread') as LocalContext;
  if (!LOCAL_CONTEXTS.includes(context)) throw new UsageError(`--context takes one of ${LOCAL_CONTEXTS.join(', ')}, got '${context}'`);
  return {
    help: flags.help === true,
    connection,
    queue,
    concurrency: integer(flags, 'concurrency', 1) ?? availableParallelism(),
    root: resolve(flags.root ?? '.'),
    context,
    inline: flags['no-inline'] !== true,
    lockDuration: integer(flags, 'lock-duration', 1),
    stalledInterval: integer(flags, 'stalled-interval', 1),
    maxStalledCount: integer(flags, 'max-stalled', 0),
  };
}

function main(): void {
  let flags;
  try {
    flags = readFlags(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`mpool-worker: ${error.message}\n\n${USAGE}`);
    process.exitCode = USAGE_EXIT_CODE;
    return;
  }
  if (flags.help) {
    process.stdout.write(USAGE);
    return;
  }
  const server = serve({ ...flags, log: (message) => process.stderr.write(`mpool-worker ${process.pid}: ${message}\n`) });
  server.ready.then(
    () => {
      const inline = flags.inline ? '' : ', modules only';
      process.stdout.write(`mpool-worker ${process.pid} serves ${server.description}: ${flags.concurrency} ${flags.context} workers, root ${flags.root}${inline}\n`);
    },
    (error: unknown) => {
      process.stderr.write(`mpool-worker: could not serve ${server.description}: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
      void server.close();
    },
  );
  const stop = (): void => {
    process.stdout.write(`mpool-worker ${process.pid} stopping: finishing the jobs in hand\n`);
    server.close().then(
      () => process.exit(),
      (error: unknown) => {
        process.stderr.write(`mpool-worker: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main();
