/**
 * The payload workload's task: a Float64Array in, the same array out, with its first element
 * raised by one so that the parent can tell the answer came from the task. Returning the array it
 * was given keeps the task's own work next to nothing: what is measured is the moving.
 */
export function echo(array) {
  array[0] += 1;
  return array;
}
