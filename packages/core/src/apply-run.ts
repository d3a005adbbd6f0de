/** The owners of `apply` jobs: the job's `ref` is its AsyncResult. */
import { AsyncResult, fulfil, reject } from './async-result.js';
import { abortError, onAbort } from './call-options.js';
import type { Job, JobOwner } from './job.js';
import type { Scheduler } from './scheduler.js';

/** The owner of every plain `apply` job. */
export const applyOwner: JobOwner = {
  jobSucceeded(job, value) {
    fulfil(job.ref as AsyncResult<unknown>, value);
  },
  jobFailed(job, error) {
    reject(job.ref as AsyncResult<unknown>, error);
  },
};

/** The owner of one `apply` job with an abort signal: stops listening once the job is done. */
export class AbortableApply implements JobOwner {
  #stopListening: () => void = () => undefined;

  /** Starts listening to `signal` for `job`, whose owner this is. */
  watch(scheduler: Scheduler, signal: AbortSignal, job: Job): void {
    this.#stopListening = onAbort(signal, () => {
      scheduler.cancel(job);
      reject(job.ref as AsyncResult<unknown>, abortError(signal));
    });
  }

  jobSucceeded(job: Job, value: unknown): void {
    this.#stopListening();
    applyOwner.jobSucceeded(job, value);
  }

  jobFailed(job: Job, error: unknown, before: readonly unknown[] | undefined): void {
    this.#stopListening();
    applyOwner.jobFailed(job, error, before);
  }
}
