/**
 * mpool ÷ each peer, for every metric of benchmarks 1-4: each peer against every mpool context
 * that runs where it does (threads against 'thread'; processes, Python's included, against
 * 'spawn' and 'forkserver'). The tables show one of them, `REFERENCE`.
 */

/** The metrics compared: the benchmark, the field of a system's result, and which way is better. */
export const METRICS = [
  { benchmark: 'tiny', field: 'oneByOne', higherIsBetter: true },
  { benchmark: 'tiny', field: 'map', higherIsBetter: true },
  { benchmark: 'tiny', field: 'mapBackToBack', higherIsBetter: true },
  { benchmark: 'pi', field: 'speedup', higherIsBetter: true },
  { benchmark: 'payloads', field: 'copied', higherIsBetter: true },
  { benchmark: 'payloads', field: 'transferred', higherIsBetter: true },
  { benchmark: 'startup', field: 'ms', higherIsBetter: false },
];

/** The mpool system each kind of peer is set against in the tables. */
export const REFERENCE = { thread: 'mpool thread', process: 'mpool spawn' };

const isMpool = (name) => name.startsWith('mpool ');

/** Adds `report.ratios`: one entry per metric, mpool system and peer where both have a median. */
export function addRatios(report) {
  report.ratios = [];
  for (const { benchmark, field } of METRICS) {
    const systems = report.benchmarks[benchmark]?.systems;
    if (systems === undefined) continue;
    for (const [peer, result] of Object.entries(systems)) {
      if (isMpool(peer) || result[field] == null) continue;
      for (const [mpool, own] of Object.entries(systems)) {
        if (!isMpool(mpool) || own.runsOn !== result.runsOn || own[field] == null) continue;
        report.ratios.push({ benchmark, metric: field, mpool, peer, ratio: own[field].median / result[field].median });
      }
    }
  }
}

/** The ratio the tables show for `peer`'s `field` in `benchmark`, or undefined. */
export function tableRatio(report, benchmark, field, peer, runsOn) {
  return report.ratios.find((r) => r.benchmark === benchmark && r.metric === field && r.peer === peer && r.mpool === REFERENCE[runsOn])?.ratio;
}
