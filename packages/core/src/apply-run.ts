/** The owners of `apply` jobs: the job's mark is its AsyncResult. */
import { AsyncResult, fulfil, reject } from './async-result.js';
import { abortError, onAbort } from './call-options.js';
import type { Job, JobOwner } from './job.js';
import type { Scheduler } from './scheduler/index.js';

/** The owner of every plain `apply` job. */
export const applyOwner: JobOwner<AsyncResult<unknown>> = {
  jobSucceeded(job, value) {
    fulfil(job.mark, value);
  },
  jobFailed(job, error) {
    reject(job.mark, error);
  },
};

/** The owner of one `apply` job with an abort signal: stops listening once the job is done. */
export class AbortableApply implements JobOwner<AsyncResult<unknown>> {
  #stopListening: () => void = () => undefined;

  /** Starts listening to `signal` for `job`, whose owner this is. */
  watch(scheduler: Scheduler, signal: AbortSignal, job: Job<AsyncResult<unknown>>): void {
    this.#stopListening = onAbort(signal, () => {
      scheduler.cancel(job);
      reject(job.mark, abortError(signal));
    });
  }

  jobSucceeded(job: Job<AsyncResult<unknown>>, value: unknown): void {
    this.#stopListening();
    applyOwner.jobSucceeded(job, value);
  }

  jobFailed(job: Job<AsyncResult<unknown>>, error: unknown, before: readonly unknown[] | undefined): void {
    this.#stopListening();
    applyOwner.jobFailed(job, error, before);
  }
}
