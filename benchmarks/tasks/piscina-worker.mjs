/** piscina's worker module: its default export is the task, called with the value given to `run`. */
export default function inc(x) {
  return x + 1;
}
