/**
 * What every benchmark here shares: reading the command line, interleaving rounds, medians, the
 * machine description and the printed table of recycling.mjs and manager.mjs.
 */
import { readFileSync } from 'node:fs';
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
 * Reads `--name` and `--name=value` flags; a flag listed in `valued` also takes its value as the
 * next argument (`--out dir`). Unknown flags throw, so a typo does not silently run the full
 * benchmark.
 */
export function parseFlags(argv, known, { valued = [] } = {}) {
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (match === null || !known.includes(match[1])) {
      throw new TypeError(`Unknown argument \`${arg}\`; expected one of ${known.map((k) => `--${k}`).join(', ')}`);
    }
    const [, name, inline] = match;
    if (inline !== undefined) flags[name] = inline;
    else if (valued.includes(name) && i + 1 < argv.length && !argv[i + 1].startsWith('--')) flags[name] = argv[++i];
    else flags[name] = true;
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

/**
 * Starts every system, runs `warmup` (by default `measure`) on each `warmupRuns` times, then
 * `rounds` rounds of `measure` in rotating order, and stops every system, also after a failure.
 * Resolves to a Map from system name to its samples (what `measure` returned), in round order.
 */
export async function runInterleaved(systems, { rounds, warmupRuns, measure, warmup = measure, label = '' }) {
  const samples = new Map(systems.map((s) => [s.name, []]));
  try {
    for (const system of systems) await system.start();
    for (let w = 0; w < warmupRuns; w++) {
      for (const system of systems) await warmup(system);
    }
    for (let round = 0; round < rounds; round++) {
      for (const system of rotate(systems, round)) {
        await waitForQuiet();
        samples.get(system.name).push(await measure(system));
      }
      process.stderr.write(`${label}round ${round + 1}/${rounds} done\n`);
    }
  } finally {
    // Terminate every pool even after a failure, so the process can exit; `async` turns the
    // throw of a pool that never started into a rejection allSettled absorbs.
    await Promise.allSettled(systems.map(async (s) => s.stop()));
  }
  return samples;
}

/**
 * As runInterleaved, with the rounds in phases: all rounds of the first phase, then all of the
 * next, `measure(system, phase)` measuring one phase's quantity; `rounds` is a number, or an
 * object of one per phase. Resolves to a Map from system name to an object of sample lists, one
 * per phase.
 */
export async function runPhases(systems, { phases, rounds, warmupRuns, measure, warmup = measure, label = '' }) {
  const roundsOf = (phase) => (typeof rounds === 'number' ? rounds : rounds[phase]);
  const samples = new Map(systems.map((s) => [s.name, Object.fromEntries(phases.map((p) => [p, []]))]));
  try {
    for (const system of systems) await system.start();
    for (let w = 0; w < warmupRuns; w++) {
      for (const system of systems) await warmup(system);
    }
    for (const phase of phases) {
      for (let round = 0; round < roundsOf(phase); round++) {
        for (const system of rotate(systems, round)) {
          await waitForQuiet();
          samples.get(system.name)[phase].push(await measure(system, phase));
        }
        process.stderr.write(`${label}${phase} round ${round + 1}/${roundsOf(phase)} done\n`);
      }
    }
  } finally {
    await Promise.allSettled(systems.map(async (s) => s.stop()));
  }
  return samples;
}

/** Busy and total time of all CPUs so far, in clock ticks (/proc/stat), or null where there is none. */
function cpuTicks() {
  let line;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  } catch {
    return null;
  }
  const [, ...fields] = line.trim().split(/\s+/);
  const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields.map(Number);
  return { busy: user + nice + system + irq + softirq + steal, total: user + nice + system + idle + iowait + irq + softirq + steal };
}

/** Quiet: at most this share of all CPUs busy over one window. */
const QUIET_SHARE = 0.1;
const QUIET_WINDOW_MS = 100;
/** Give up waiting after this long, and measure anyway (the report's load average tells). */
const QUIET_GIVE_UP_MS = 3_000;

/**
 * Waits until the machine is quiet: what the system measured before is still doing after its
 * measurement (its workers' garbage collection, a pool tidying up) must not land on the next
 * system's clock. Resolves to the milliseconds waited.
 */
export async function waitForQuiet() {
  const started = performance.now();
  let before = cpuTicks();
  if (before === null) return 0;
  while (performance.now() - started < QUIET_GIVE_UP_MS) {
    await new Promise((resolve) => setTimeout(resolve, QUIET_WINDOW_MS));
    const after = cpuTicks();
    const total = after.total - before.total;
    if (total > 0 && (after.busy - before.busy) / total <= QUIET_SHARE) break;
    before = after;
  }
  return performance.now() - started;
}

/** Runs `call`, checks it gave every one of `inputs` plus one, and returns tasks per second. */
export async function incRate(name, inputs, call) {
  const started = performance.now();
  const results = await call();
  const ms = since(started);
  for (let i = 0; i < inputs.length; i++) {
    if (results[i] !== inputs[i] + 1) throw new Error(`${name}: result ${i} is ${results[i]}, expected ${inputs[i] + 1}`);
  }
  return (inputs.length * 1000) / ms;
}

/** The 1-, 5- and 15-minute load averages, rounded: how busy the machine was around a run. */
export function loadAverage() {
  return os.loadavg().map((l) => Math.round(l * 100) / 100);
}

/** Milliseconds since `started` (a `performance.now()` reading). */
export function since(started) {
  return performance.now() - started;
}

/** Whether `name` is picked by `--only` (`only` is its comma-separated parts, or null for all). */
export function picked(only, name) {
  return only === null || only.some((part) => name.includes(part));
}
