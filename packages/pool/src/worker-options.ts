/**
 * What every worker of a pool starts with, beside its context: the options `resourceLimits`,
 * `env` and `execArgv`, and their checks. A worker thread takes fewer Node flags than a process:
 * those it refuses are found before any worker starts.
 */
import { Worker } from 'node:worker_threads';
import { messageOf, type EnvOverrides, type WorkerLimits } from '@mpool/core';

/** The options of a pool that say how each of its workers starts. */
export interface WorkerStart {
  readonly limits?: WorkerLimits;
  readonly env?: EnvOverrides;
  readonly execArgv?: readonly string[];
}

/** Throws `TypeError` unless `env` is an object of strings (or `undefined`, to leave a variable out). */
export function checkEnv(env: unknown): asserts env is EnvOverrides | undefined {
  if (env === undefined) return;
  if (typeof env !== 'object' || env === null || Array.isArray(env)) {
    throw new TypeError(`Expected \`env\` to be an object of environment variables, got \`${Array.isArray(env) ? 'an array' : String(env)}\``);
  }
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && typeof value !== 'string') {
      throw new TypeError(`Expected \`env.${name}\` to be a string (or undefined, to leave it out), got \`${typeof value}\``);
    }
  }
}

/** Throws `TypeError` unless `execArgv` is an array of non-empty strings. */
export function checkExecArgv(execArgv: unknown): asserts execArgv is readonly string[] | undefined {
  if (execArgv === undefined) return;
  if (!Array.isArray(execArgv) || execArgv.some((flag) => typeof flag !== 'string' || flag.length === 0)) {
    throw new TypeError(`Expected \`execArgv\` to be an array of Node flags (non-empty strings), got \`${Array.isArray(execArgv) ? JSON.stringify(execArgv) : String(execArgv)}\``);
  }
}

/**
 * A flag no Node accepts. A Worker given it throws before its thread starts, saying which of its
 * flags it refuses: given with the pool's flags, it shows whether those are refused too, without
 * a thread ever starting.
 */
const REFUSED_FLAG = '--mpool-refused-flag';

function refusal(execArgv: readonly string[]): string {
  try {
    const worker = new Worker('', { eval: true, execArgv: [...execArgv, REFUSED_FLAG] });
    void worker.terminate(); // (a Node that took it after all: the check cannot tell)
    return '';
  } catch (error) {
    return messageOf(error);
  }
}

/**
 * Throws `TypeError` unless a worker thread accepts every flag of `execArgv` (V8's flags, and
 * Node's per-process ones such as `--expose-gc`, it does not), naming the context that asked.
 */
export function checkThreadFlags(execArgv: readonly string[] | undefined, context: string): void {
  if (execArgv === undefined || execArgv.length === 0) return;
  const alone = refusal([]);
  const withFlags = refusal(execArgv);
  if (withFlags === alone) return;
  const said = withFlags.replace(`, ${REFUSED_FLAG}`, '').replace(REFUSED_FLAG, '');
  throw new TypeError(`The '${context}' context runs workers on threads, which do not take every flag of \`execArgv\` (${said}); give process-wide flags to the 'fork', 'spawn' or 'forkserver' context`);
}
