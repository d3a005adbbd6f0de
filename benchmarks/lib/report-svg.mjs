/**
 * The chart of run.mjs (results/latest.svg), written by hand: two panels of horizontal bars, one
 * row per system. Left: benchmark 1's tiny-task rates on a log scale, one by one and through map.
 * Right: benchmark 2's speed-ups from 1 worker to 2, on a linear scale with the ideal marked.
 */

const WIDTH = 1000;
const ROW = 30;
const TOP = 70;
const LABEL = 190;
const PANEL_GAP = 40;
const PANEL = (WIDTH - 2 * LABEL - PANEL_GAP - 40) / 2;
const COLORS = {
  mpool: { solid: '#d9480f', light: '#ffa94d' },
  peer: { solid: '#1c7ed6', light: '#74c0fc' },
  python: { solid: '#6741d9', light: '#b197fc' },
};

const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const colorOf = (name) => (name.startsWith('mpool ') ? COLORS.mpool : name.startsWith('Python') ? COLORS.python : COLORS.peer);
const compact = (v) =>
  v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(v >= 1e5 ? 0 : 1)}k` : `${Math.round(v)}`;

/** A dashed line above the first row that runs on processes, across the panel at `x0`. */
function groupSeparator(systems, names, x0) {
  const first = names.findIndex((n) => systems[n].runsOn === 'process');
  if (first <= 0) return [];
  const y = TOP + first * ROW - 3;
  return [`<line x1="${x0 + 10}" y1="${y}" x2="${(x0 + LABEL + PANEL).toFixed(1)}" y2="${y}" class="separator"/>`];
}

function text(x, y, content, attrs = '') {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${escape(content)}</text>`;
}

function rect(x, y, w, h, fill) {
  return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(w, 0.5).toFixed(1)}" height="${h}" fill="${fill}"/>`;
}

/** Left panel: log-scale bars of tasks/s, one by one (solid) and through map (light). */
function tinyPanel(tiny, x0) {
  const names = Object.keys(tiny.systems);
  const values = names.flatMap((n) => [tiny.systems[n].oneByOne.median, tiny.systems[n].map?.median].filter((v) => v > 0));
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  const scale = (v) => ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * PANEL;
  const out = [
    text(x0, 30, `Tiny tasks: tasks/s, log scale (${tiny.config.tasks.toLocaleString('en-US')} tasks, 2 workers)`, 'class="title"'),
    rect(x0 + LABEL, 40, 12, 10, '#868e96'),
    text(x0 + LABEL + 16, 49, 'one by one', 'class="small"'),
    rect(x0 + LABEL + 90, 40, 12, 10, '#ced4da'),
    text(x0 + LABEL + 106, 49, 'through map, after idle', 'class="small"'),
  ];
  const bottom = TOP + names.length * ROW;
  out.push(...groupSeparator(tiny.systems, names, x0));
  for (let p = lo; p <= hi; p *= 10) {
    const x = x0 + LABEL + scale(p);
    out.push(`<line x1="${x.toFixed(1)}" y1="${TOP - 6}" x2="${x.toFixed(1)}" y2="${bottom}" class="grid"/>`);
    out.push(text(x, bottom + 14, compact(p), 'class="small" text-anchor="middle"'));
  }
  names.forEach((name, i) => {
    const s = tiny.systems[name];
    const y = TOP + i * ROW;
    const color = colorOf(name);
    out.push(text(x0 + LABEL - 8, y + 15, name, 'text-anchor="end"'));
    const one = scale(s.oneByOne.median);
    out.push(rect(x0 + LABEL, y + 2, one, 11, color.solid));
    out.push(text(x0 + LABEL + one + 4, y + 11, compact(s.oneByOne.median), 'class="small"'));
    if (s.map !== null) {
      const mapped = scale(s.map.median);
      out.push(rect(x0 + LABEL, y + 14, mapped, 11, color.light));
      out.push(text(x0 + LABEL + mapped + 4, y + 23, compact(s.map.median), 'class="small"'));
    }
  });
  return out;
}

/** Right panel: linear bars of the speed-up from 1 worker to 2, with the ideal as a dashed line. */
function piPanel(pi, x0) {
  const names = Object.keys(pi.systems);
  const ideal = pi.config.ideal;
  const top = Math.max(ideal * 1.1, ...names.map((n) => pi.systems[n].speedup.median * 1.05));
  const scale = (v) => (v / top) * PANEL;
  const bottom = TOP + names.length * ROW;
  const out = [
    text(x0, 30, `Pi: speed-up from 1 worker to ${ideal} (ideal ${ideal}×)`, 'class="title"'),
    ...groupSeparator(pi.systems, names, x0),
  ];
  for (let t = 0; t <= top; t += 0.5) {
    const x = x0 + LABEL + scale(t);
    out.push(`<line x1="${x.toFixed(1)}" y1="${TOP - 6}" x2="${x.toFixed(1)}" y2="${bottom}" class="grid"/>`);
    out.push(text(x, bottom + 14, `${t}×`, 'class="small" text-anchor="middle"'));
  }
  const xi = x0 + LABEL + scale(ideal);
  out.push(`<line x1="${xi.toFixed(1)}" y1="${TOP - 10}" x2="${xi.toFixed(1)}" y2="${bottom}" class="ideal"/>`);
  out.push(text(xi, TOP - 14, 'ideal', 'class="small" text-anchor="middle"'));
  names.forEach((name, i) => {
    const s = pi.systems[name];
    const y = TOP + i * ROW;
    const w = scale(s.speedup.median);
    out.push(text(x0 + LABEL - 8, y + 15, name, 'text-anchor="end"'));
    out.push(rect(x0 + LABEL, y + 5, w, 16, colorOf(name).solid));
    const label = `${s.speedup.median.toFixed(2)}×`;
    // A white ground under the value, so that the ideal's line does not run through it.
    out.push(rect(x0 + LABEL + w + 2, y + 7, label.length * 6 + 4, 13, '#ffffff'));
    out.push(text(x0 + LABEL + w + 4, y + 17, label, 'class="small"'));
  });
  return out;
}

/** What the colours mean, and which rows are which: a line of swatches at (x, y). */
function legend(x, y) {
  const items = [
    [COLORS.mpool.solid, 'mpool'],
    [COLORS.peer.solid, 'other Node.js pools'],
    [COLORS.python.solid, "Python's pools"],
  ];
  const out = [];
  let at = x;
  for (const [color, label] of items) {
    out.push(rect(at, y - 9, 12, 10, color), text(at + 16, y, label, 'class="small"'));
    at += 24 + label.length * 6;
  }
  out.push(text(at, y, 'rows above the dashed line: workers on threads; below: on processes', 'class="small"'));
  return out;
}

/** The chart as an SVG document. */
export function renderSvg(report) {
  const { tiny, pi } = report.benchmarks;
  const rows = Math.max(Object.keys(tiny?.systems ?? {}).length, Object.keys(pi?.systems ?? {}).length, 1);
  const height = TOP + rows * ROW + 66;
  const m = report.machine;
  const body = [
    ...(tiny === undefined ? [] : tinyPanel(tiny, 10)),
    ...(pi === undefined ? [] : piPanel(pi, 10 + LABEL + PANEL + PANEL_GAP)),
    ...legend(10, height - 28),
    text(10, height - 10, `Node ${m.node}, ${m.cpuModel}, ${m.cores} cores; medians; ${report.date.slice(0, 10)}`, 'class="small"'),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`,
    '<style>.title{font-size:14px;font-weight:bold}.small{font-size:10px;fill:#495057}.grid{stroke:#dee2e6;stroke-width:1}.ideal{stroke:#212529;stroke-width:1.5;stroke-dasharray:5 4}.separator{stroke:#adb5bd;stroke-width:1;stroke-dasharray:3 3}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
