/**
 * Typed arrays, Buffers and DataViews as the process channel (frames.ts) writes them when their
 * bytes travel apart from the message: by the index of their kind, made again on the receiving
 * side over a buffer of its own.
 */

type ViewKind = new (buffer: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView;

/** The kinds of view, by index; Buffer last. */
const VIEW_KINDS: readonly ViewKind[] = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array, DataView,
];
const BUFFER_KIND = VIEW_KINDS.length;
const KIND_BY_NAME = new Map(VIEW_KINDS.map((kind, index) => [kind.name, index]));

/**
 * `view`'s kind, as an index; undefined for a kind not listed (which then travels in the message
 * itself). By its tag, not `instanceof`: views may come from another realm.
 */
export function viewKind(view: ArrayBufferView): number | undefined {
  if (Buffer.isBuffer(view)) return BUFFER_KIND;
  const tag = Object.prototype.toString.call(view).slice(8, -1);
  return KIND_BY_NAME.get(tag);
}

/** A view of kind `kind` (from viewKind) over `byteLength` bytes of `buffer` from `byteOffset`. */
export function viewOn(kind: number, buffer: ArrayBuffer, byteOffset: number, byteLength: number): ArrayBufferView {
  if (kind === BUFFER_KIND) return Buffer.from(buffer, byteOffset, byteLength);
  const Kind = VIEW_KINDS[kind];
  if (Kind === undefined) throw new Error(`mpool process channel: unknown view kind ${kind}`);
  const perElement = (Kind as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
  return new Kind(buffer, byteOffset, byteLength / perElement);
}

/** The bytes of `view`, in a buffer of their own. */
export function bytesOf(view: ArrayBufferView): ArrayBuffer {
  const bytes = new Uint8Array(view.byteLength);
  bytes.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return bytes.buffer;
}

/** `view` in memory of its own, of the same kind. */
export function copyView(view: ArrayBufferView): ArrayBufferView {
  // The constructor of Node's own realm (Buffer, Float64Array, DataView, …): the same kind back.
  const Kind = view.constructor as ViewKind;
  const perElement = (view as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
  return new Kind(bytesOf(view), 0, view.byteLength / perElement);
}
