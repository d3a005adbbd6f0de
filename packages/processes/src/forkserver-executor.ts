/**
 * The forkserver context: process workers, with one spare booted ahead of need, so that replacing
 * a worker (maxtasksperchild, a crash) hands over a process that has already paid Node's start-up
 * instead of waiting for a new one. The spare is a clean process, as for `'spawn'`.
 */
import { PackedNumbersCodec, type EnvOverrides, type Executor, type WorkerEvents, type WorkerHandle, type WorkerInit } from '@mpool/core';
import { ProcessExecutor } from './process-executor.js';
import type { BootedChild } from './process-worker.js';

export interface ForkserverExecutorOptions {
  /** Extra Node flags for every child. */
  readonly execArgv?: readonly string[];
  /** Variables of every child's environment, over the parent's. Default: the parent's. */
  readonly env?: EnvOverrides;
}

export class ForkserverExecutor implements Executor {
  /** The channel sends packed chunks of numbers as they are, beside each message (frames.ts). */
  readonly codec = new PackedNumbersCodec();
  readonly #boot: ProcessExecutor;
  #spare: BootedChild | undefined;
  #closed = false;

  constructor(options: ForkserverExecutorOptions = {}) {
    this.#boot = new ProcessExecutor({ start: 'spawn', execArgv: options.execArgv, env: options.env });
  }

  start(init: WorkerInit, events: WorkerEvents): WorkerHandle {
    const booted = this.#takeSpare() ?? this.#boot.boot();
    // The next spare boots once this worker has answered its first task (its second message: the
    // first says that it is ready), or is gone. Booted beside workers that are starting, it would
    // take a core from them and their first tasks: a fresh pool's first result would wait for
    // three processes' start-up on a machine of two cores. A worker taken from a spare answers
    // as soon as it has worked, so a replacement's spare boots as soon as before.
    let messagesBeforeSpare = 2;
    const prepareSpare = (): void => {
      // Starting a process blocks this thread for some milliseconds: after what the caller is
      // doing (sending the answer on, or the next task), not in its way.
      setImmediate(() => this.#prepareSpare()).unref();
    };
    return booted.attach(init, {
      message: (message) => {
        events.message(message);
        if (messagesBeforeSpare > 0 && --messagesBeforeSpare === 0) prepareSpare();
      },
      exit: (info) => {
        if (messagesBeforeSpare > 0) prepareSpare();
        events.exit(info);
      },
    });
  }

  /** Kills the spare: the pool is done with this executor. Resolves once it is gone. */
  shutdown(): Promise<void> {
    this.#closed = true;
    const spare = this.#spare;
    this.#spare = undefined;
    return spare === undefined ? Promise.resolve() : spare.kill();
  }

  #takeSpare(): BootedChild | undefined {
    const spare = this.#spare;
    this.#spare = undefined;
    // A spare that died while waiting is no use; boot a fresh one instead.
    if (spare === undefined || spare.exited) return undefined;
    return spare;
  }

  #prepareSpare(): void {
    if (this.#closed || this.#spare !== undefined) return;
    const spare = this.#boot.boot();
    // A waiting spare must not keep the program alive.
    spare.setRef(false);
    this.#spare = spare;
  }
}
