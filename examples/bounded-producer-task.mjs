/**
 * The task of bounded-producer.mjs: read one line of an access log.
 */

/** The status and size of a request, from a line `<time> <method> <path> <status> <bytes>`. */
export function parseLine(line) {
  const fields = line.split(' ');
  if (fields.length !== 5) throw new SyntaxError(`Not a log line: ${JSON.stringify(line)}`);
  return { status: Number(fields[3]), bytes: Number(fields[4]) };
}
