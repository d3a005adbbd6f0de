/**
 * The Markdown report of run.mjs (results/latest.md): the machine, one table of medians with a
 * row per system and a column per measurement, one of mpool ÷ each peer, and the imap memory table.
 */
import { REFERENCE, tableRatio } from './ratios.mjs';

const NA = 'n/a';
const int = (v) => Math.round(v).toLocaleString('en-US');
const oneDecimal = (v) => v.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const twoDecimals = (v) => v.toFixed(2);

function table(header, align, rows) {
  return [
    `| ${header.join(' | ')} |`,
    `| ${align.map((a) => (a === 'r' ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** Every system named by any of benchmarks 1-4, in the order they were listed. */
function systemNames(report) {
  const names = [];
  for (const key of ['tiny', 'pi', 'payloads', 'startup']) {
    for (const name of Object.keys(report.benchmarks[key]?.systems ?? {})) if (!names.includes(name)) names.push(name);
  }
  return names;
}

function runsOnOf(report, name) {
  for (const b of Object.values(report.benchmarks)) if (b.systems?.[name] !== undefined) return b.systems[name].runsOn;
  return undefined;
}

const runsOnLabel = (runsOn) => (runsOn === 'thread' ? 'threads' : 'processes');

function header(report) {
  const m = report.machine;
  const py = report.python === null ? 'no Python' : `Python ${report.python.version} (start method '${report.python.startMethod}')`;
  const load = (l) => (l === undefined ? '?' : l.join(', '));
  return (
    `${report.preset === 'quick' ? 'A quick smoke run (too small to trust). ' : ''}` +
    `${report.workers} workers per pool; Node ${m.node}, ${py}; ${m.cpuModel}, ${m.cores} cores, ${m.totalMemoryGiB} GiB; ` +
    `load average (1, 5, 15 min) ${load(report.loadAverage.start)} at the start, ${load(report.loadAverage.end)} at the end; ` +
    `${report.date.slice(0, 16).replace('T', ' ')} UTC.`
  );
}

function mediansTable(report) {
  const b = report.benchmarks;
  const rows = systemNames(report).map((name) => {
    const tiny = b.tiny?.systems[name];
    const pi = b.pi?.systems[name];
    const pay = b.payloads?.systems[name];
    const start = b.startup?.systems[name];
    const transferred =
      pay === undefined ? '' : pay.transferred === null ? NA : `${int(pay.transferred.median)}${pay.transfer === 'in' ? ' ¹' : ''}`;
    return [
      name,
      runsOnLabel(runsOnOf(report, name)),
      tiny === undefined ? '' : int(tiny.oneByOne.median),
      tiny === undefined ? '' : tiny.map === null ? NA : int(tiny.map.median),
      tiny === undefined ? '' : tiny.mapBackToBack == null ? NA : int(tiny.mapBackToBack.median),
      pi === undefined ? '' : `${twoDecimals(pi.speedup.median)}× (${Math.round(pi.ofIdeal * 100)}%)`,
      pay === undefined ? '' : int(pay.copied.median),
      transferred,
      start === undefined ? '' : oneDecimal(start.ms.median),
    ];
  });
  const ideal = b.pi?.config.ideal ?? report.workers;
  return table(
    [
      'system',
      'runs on',
      'tiny tasks one by one, tasks/s',
      'tiny tasks through map after idle, tasks/s',
      'back to back, tasks/s',
      `pi speed-up 1 → ${ideal} workers (of ideal ${ideal}×)`,
      '1 MiB payloads copied, MiB/s',
      'transferred, MiB/s',
      'start-up to first result, ms',
    ],
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows,
  );
}

function ratiosTable(report) {
  const columns = [
    ['tiny', 'oneByOne', 'tiny one by one'],
    ['tiny', 'map', 'tiny map after idle'],
    ['tiny', 'mapBackToBack', 'back to back'],
    ['pi', 'speedup', 'pi speed-up'],
    ['payloads', 'copied', 'payloads copied'],
    ['payloads', 'transferred', 'transferred'],
    ['startup', 'ms', 'start-up ms'],
  ];
  const peers = systemNames(report).filter((name) => !name.startsWith('mpool '));
  const rows = peers.map((peer) => {
    const runsOn = runsOnOf(report, peer);
    return [
      peer,
      REFERENCE[runsOn],
      ...columns.map(([benchmark, field]) => {
        if (report.benchmarks[benchmark] === undefined) return '';
        const ratio = tableRatio(report, benchmark, field, peer, runsOn);
        return ratio === undefined ? NA : twoDecimals(ratio);
      }),
    ];
  });
  return table(['peer', 'against', ...columns.map((c) => c[2])], ['l', 'l', ...columns.map(() => 'r')], rows);
}

function imapTable(report) {
  const imap = report.benchmarks.imap;
  const mib = (v) => (v === null || v === undefined ? NA : oneDecimal(v));
  // The sample halfway through and the last one: equal when the memory has stayed flat.
  const at = (samples, fraction) => (samples.length === 0 ? undefined : samples[Math.ceil(samples.length * fraction) - 1]);
  const rows = Object.entries(imap.systems).map(([name, s]) => [
    name,
    runsOnLabel(s.runsOn),
    mib(s.startRssMB),
    mib(at(s.rssSamplesMB, 0.5)),
    mib(at(s.rssSamplesMB, 1)),
    mib(s.peakRssMB),
    mib(s.peakHeapUsedMB),
    int(s.itemsPerSecond),
  ]);
  return table(
    ['system', 'workers on', 'RSS at start, MiB', 'RSS halfway, MiB', 'RSS at the end, MiB', 'peak RSS, MiB', 'peak heapUsed, MiB', 'items/s'],
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows,
  );
}

/** The whole report as Markdown. */
export function renderMarkdown(report) {
  const b = report.benchmarks;
  const parts = [header(report), ''];
  if (['tiny', 'pi', 'payloads', 'startup'].some((k) => b[k] !== undefined)) {
    parts.push(`Medians over ${describeRounds(report)}:`, '', mediansTable(report), '');
    if (b.payloads !== undefined) {
      parts.push(
        '¹ poolifier transfers the array to its worker, but its workers cannot transfer a result: that comes back copied.',
        '',
      );
    }
    parts.push(
      `mpool ÷ peer, each peer against mpool on the same side ('${REFERENCE.thread}' for threads, '${REFERENCE.process}' for processes). ` +
        'Above 1 mpool does better, except for start-up, in ms, where below 1 mpool starts faster:',
      '',
      ratiosTable(report),
      '',
    );
  }
  if (b.imap !== undefined) {
    const c = b.imap.config;
    parts.push(
      `imap over ${int(c.items)} items, chunksize ${int(c.chunksize)}, the parent's memory sampled every ` +
        `${int(c.sampleEvery)} results (RSS is the whole process's: on threads it counts the workers too):`,
      '',
      imapTable(report),
      '',
    );
  }
  parts.push('n/a: the system has no such call (no map, no transfer of buffers, no JavaScript heap).', '');
  return parts.join('\n');
}

function describeRounds(report) {
  const b = report.benchmarks;
  const parts = [
    b.tiny &&
      `${b.tiny.config.rounds} rounds of ${int(b.tiny.config.tasks)} tiny tasks one by one and ${b.tiny.config.mapRounds} through map ` +
        `(chunksize ${int(b.tiny.config.chunksize)}; each round one map after the pool sat idle, then ${b.tiny.config.backToBackMaps} back to back)`,
    b.pi && `${b.pi.config.rounds} of pi (${int(b.pi.config.terms)} terms in ${b.pi.config.chunks} tasks; Python ${int(b.pi.config.pythonTerms)})`,
    b.payloads &&
      `${b.payloads.config.rounds} of ${b.payloads.config.tasks} payloads` +
        (b.payloads.config.minRunMs === undefined ? '' : ` (sent again, those that came back, until ${b.payloads.config.minRunMs} ms had passed)`),
    b.startup && `${b.startup.config.rounds} start-ups`,
  ].filter(Boolean);
  return parts.join(', ');
}
