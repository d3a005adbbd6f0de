/**
 * The image example's work: a box blur over an RGBA image, one strip of rows (a tile) at a time.
 * Each output pixel is the mean of the (2r + 1) × (2r + 1) pixels around it, edges clamped, in two
 * passes (across, then down). A strip of rows reads `radius` rows above and below it: its halo.
 *
 * Three ways in, one blur (`blurRows`), the same pixels out:
 *   blurShared   threads: the image and its output are SharedArrayBuffers every worker sees;
 *                a task blurs its strip straight into the shared output, and returns nothing
 *   blurTile     processes: a task is given its strip with its halo, moved (transfer()), and
 *                hands the blurred rows back moved
 *   blurRows     the whole image on one thread, for the time to beat
 */
import { threadId } from 'node:worker_threads';
import { transfer } from '@mpool/pool/transfer';

/** Bytes per pixel: red, green, blue, alpha. */
export const RGBA = 4;

/**
 * A procedural test image: `width` × `height` RGBA pixels in `bytes` (whose buffer may be shared),
 * stripes and a checkerboard, so that the blur has edges to soften.
 */
export function paint(bytes, width, height) {
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = (y * width + x) * RGBA;
      bytes[at] = (x * 7 + y * 3) & 255;
      bytes[at + 1] = (x ^ y) & 255;
      bytes[at + 2] = ((x >> 4) + (y >> 4)) & 1 ? 230 : 20;
      bytes[at + 3] = 255;
    }
  }
}

/**
 * Blurs rows `y0` to `y1` (not included) of a `width` × `height` image. `src` holds the image's
 * rows from `srcTop` on (the whole image, or one strip with its halo); the blurred rows go into
 * `dst` from its row `dstTop` on. Each pass keeps a running sum, which the next pixel updates
 * with the one that enters the window and the one that leaves it.
 */
export function blurRows(src, srcTop, dst, dstTop, width, height, y0, y1, radius) {
  const rowBytes = width * RGBA;
  const first = Math.max(0, y0 - radius);
  const last = Math.min(height, y1 + radius);
  const clampX = (x) => Math.min(width - 1, Math.max(0, x));
  const clampY = (y) => Math.min(height - 1, Math.max(0, y));
  // Across: each pixel's sum over its row neighbours, for the rows of the strip and its halo.
  const across = new Uint16Array((last - first) * rowBytes);
  for (let y = first; y < last; y++) {
    const row = (y - srcTop) * rowBytes;
    const out = (y - first) * rowBytes;
    for (let c = 0; c < RGBA; c++) {
      let sum = 0;
      for (let dx = -radius; dx <= radius; dx++) sum += src[row + clampX(dx) * RGBA + c];
      for (let x = 0; x < width; x++) {
        across[out + x * RGBA + c] = sum;
        sum += src[row + clampX(x + radius + 1) * RGBA + c] - src[row + clampX(x - radius) * RGBA + c];
      }
    }
  }
  // Down: those sums summed over each pixel's column neighbours, a row of running sums at a time,
  // as a mean (which the clamped bytes round to the nearest).
  const taps = (2 * radius + 1) * (2 * radius + 1);
  const sums = new Uint32Array(rowBytes);
  for (let dy = -radius; dy <= radius; dy++) {
    const row = (clampY(y0 + dy) - first) * rowBytes;
    for (let i = 0; i < rowBytes; i++) sums[i] += across[row + i];
  }
  for (let y = y0; y < y1; y++) {
    const out = (y - y0 + dstTop) * rowBytes;
    const entering = (clampY(y + radius + 1) - first) * rowBytes;
    const leaving = (clampY(y - radius) - first) * rowBytes;
    for (let i = 0; i < rowBytes; i++) {
      dst[out + i] = sums[i] / taps;
      sums[i] += across[entering + i] - across[leaving + i];
    }
  }
}

/** Threads: blurs rows `y0`…`y1` of the shared image `src` straight into the shared output `dst`. */
export function blurShared(src, dst, width, height, y0, y1, radius) {
  blurRows(new Uint8ClampedArray(src), 0, new Uint8ClampedArray(dst), y0, width, height, y0, y1, radius);
}

/**
 * Processes: a tile, whose `strip` holds the image's rows from `top` on, the halo included (moved
 * here); blurs rows `y0`…`y1` and hands them back in a buffer of their own, moved rather than
 * copied, with the row they start at.
 */
export function blurTile({ strip, top, width, height, y0, y1, radius }) {
  const rows = new Uint8ClampedArray((y1 - y0) * width * RGBA);
  blurRows(strip, top, rows, 0, width, height, y0, y1, radius);
  return transfer({ y0, rows }, [rows.buffer]);
}

/** Which worker this is (process id and thread id). */
export function workerTag() {
  return `${process.pid}:${threadId}`;
}
