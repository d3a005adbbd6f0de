/** The Manager's own error, under mpool's `MpoolError`. */
import { MpoolError, type MpoolErrorOptions } from '@mpool/core';

/** A call on a shared object whose Manager was closed, or on a Manager that is closed. */
export class ManagerClosedError extends MpoolError {
  /**
   * Made when an object of a closed manager is called.
   * @param message what the closed manager could not do.
   * @param options `cause`: what led to it. Default: none.
   */
  constructor(message: string, options?: MpoolErrorOptions) {
    super(message, options);
  }
}
// On the prototype, spelled out, as every mpool error's name (see @mpool/core's errors.ts).
Object.defineProperty(ManagerClosedError.prototype, 'name', { value: 'ManagerClosedError', enumerable: false, writable: true, configurable: true });
