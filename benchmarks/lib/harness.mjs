/**
 * What every benchmark here shares: reading the command line, interleaving rounds, medians, the
 * machine description and the printed table.
 */
import os from 'node:os';

/** The median of a list of numbers (the mean of the middle two for an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * `items` rotated left by `by`: round r runs the systems starting from the r-th, so none of them
 * always runs first (cold caches) or last (after the others' garbage).
 */
export function rotate(items, by) {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** What the numbers were measured on. */
export function describeMachine() {
  const cpus = os.cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    totalMemoryGiB: Math.round(os.totalmem() / 2 ** 30),
  };
}

/**
 * Reads `--name` and `--name=value` flags. Unknown flags throw, so a typo does not silently run
 * the full benchmark.
 */
export function parseFlags(argv, known) {
  const flags = {};
  for (const arg of argv) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (match === null || !known.includes(match[1])) {
      throw new TypeError(`Unknown argument \`${arg}\`; expected one of ${known.map((k) => `--${k}`).join(', ')}`);
    }
    flags[match[1]] = match[2] ?? true;
  }
  return flags;
}

/** Reads a flag that must be a positive integer, or `fallback` when it is absent. */
export function positiveInt(flags, name, fallback) {
  if (flags[name] === undefined) return fallback;
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`Expected --${name} to be an integer ≥ 1, got \`${flags[name]}\``);
  }
  return value;
}

/** Right-aligned columns, the first left-aligned; `rows` are arrays of strings. */
export function formatTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** A rate with thousands separators and no decimals, e.g. `123,456`. */
export function formatRate(value) {
  return Math.round(value).toLocaleString('en-US');
}
