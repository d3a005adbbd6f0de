/**
 * `@mpool/pool/transfer`: `transfer()` alone, for task modules. A worker that imports it from here
 * loads nothing else of mpool, where the package's main entry loads every context's backend.
 * @example
 * // tasks.mjs
 * import { transfer } from '@mpool/pool/transfer';
 * export function render(width, height) {
 *   const pixels = new Uint8ClampedArray(width * height * 4);
 *   return transfer(pixels, [pixels.buffer]);
 * }
 */
export { transfer, type Transferable } from '@mpool/core/transfer';
