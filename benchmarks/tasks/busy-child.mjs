/**
 * Keeps one core busy for the given milliseconds, making and dropping small objects as a pool's
 * process does, then exits: ipc-floor.mjs `--busy` runs one per core while the systems wait, as
 * the other systems run between a system's rounds in the full suite.
 */
const until = Date.now() + Number(process.argv[2]);
const kept = [];
while (Date.now() < until) {
  for (let i = 0; i < 100_000; i++) kept.push({ i });
  kept.length = 0;
}
