/**
 * The frames of ipc-floor.mjs's socket map: u32le byte length, 4 bytes of padding, then that many
 * bytes of float64s (little-endian).
 */
export const HEADER = 8;

/** Calls `onFrame(body, at)` for each whole frame `socket` reads: its float64s start at `body[at]`. */
export function readFrames(socket, onFrame) {
  let pending = Buffer.alloc(0);
  socket.on('data', (data) => {
    pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
    while (pending.length >= HEADER) {
      const bytes = pending.readUInt32LE(0);
      if (pending.length < HEADER + bytes) break;
      onFrame(pending.subarray(0, HEADER + bytes), HEADER);
      pending = pending.subarray(HEADER + bytes);
    }
  });
}

/** A frame of `count` numbers, each `valueAt(i)`. */
export function frameOf(count, valueAt) {
  const frame = Buffer.allocUnsafe(HEADER + count * 8);
  frame.writeUInt32LE(count * 8, 0);
  for (let i = 0; i < count; i++) frame.writeDoubleLE(valueAt(i), HEADER + i * 8);
  return frame;
}
