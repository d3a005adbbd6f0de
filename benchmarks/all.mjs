/**
 * `pnpm bench`: the suite (run.mjs), then the image example timed (image.mjs), then the 'bullmq'
 * context against plain BullMQ (bullmq.mjs, which says so and skips itself where redis-server is
 * missing). Every flag goes to run.mjs; --quick, --rounds and --out go to the others too.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SHARED_FLAGS = /^--(quick|rounds|out)(=|$)/;
const args = process.argv.slice(2);
const shared = [];
for (let i = 0; i < args.length; i++) {
  if (!SHARED_FLAGS.test(args[i])) continue;
  shared.push(args[i]);
  // A valued flag may take its value as the next argument (`--out dir`).
  if (!args[i].includes('=') && args[i] !== '--quick' && i + 1 < args.length && !args[i + 1].startsWith('--')) shared.push(args[++i]);
}
for (const [script, scriptArgs] of [['run.mjs', args], ['image.mjs', shared], ['bullmq.mjs', shared]]) {
  const { status, signal } = spawnSync(process.execPath, [fileURLToPath(new URL(script, import.meta.url)), ...scriptArgs], { stdio: 'inherit' });
  if (status !== 0) {
    process.stderr.write(`${script} failed (${signal ?? `exit code ${status}`})\n`);
    process.exit(status ?? 1);
  }
}
