/** Words for how a worker ended and for what went wrong, for the errors the scheduler raises. */
import type { WorkerExitInfo } from './executor.js';

/**
 * An error's message. Not `instanceof Error`: errors made by Node for a worker come from its own
 * realm, which is not the caller's under `vm` or a test runner's sandbox.
 */
export function messageOf(error: unknown): string {
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(error);
}

export function isCloneError(error: unknown): boolean {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  return name === 'DataCloneError' || /could not be cloned/.test(messageOf(error));
}

/** Whether a send failed because the worker is gone (WorkerGoneError), by name, as isCloneError. */
export function isWorkerGone(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'WorkerGoneError';
}

/** Whether a send that failed as the worker went had taken its message's moved buffers (WorkerGoneError.buffersTaken). */
export function tookBuffers(error: unknown): boolean {
  return (error as { buffersTaken?: unknown }).buffersTaken === true;
}

export function describeExit(info: WorkerExitInfo): string {
  if (info.signal === 'SIGABRT') return 'killed by SIGABRT: out of memory, most likely';
  // A worker on another machine that stopped answering has neither.
  if (info.signal === null && info.code === null) return 'lost, with no exit code';
  return info.signal !== null ? `killed by ${info.signal}` : `exit code ${String(info.code)}`;
}

