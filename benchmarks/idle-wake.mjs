/**
 * What a process pays on this machine for having slept: the cost under the first map after idle.
 *
 *   - `Node ping`: a Node process sends one byte over a Unix socket to a Node child, which sends
 *     it back; the round trip's time, warm (median of 10 after 10 more) and the first one after
 *     sleeping `gap` ms.
 *   - `Python ping`: the same between two Python processes, over pipes (when python3 is present).
 *
 * Each gap is measured `rounds` times; medians. On the virtual machine of our benchmark tables,
 * a Node process that slept for seconds answers its first message about 1 to 2 ms later than when
 * warm, and a Python process a few tenths of a millisecond later at most: sampled with `perf`,
 * the Node child runs the first 2 to 4 ms of work after waking at a small fraction of its usual
 * speed (the same few instructions over 100 µs and more), in its event loop, V8's builtins and
 * JavaScript alike. Every Node process of a pool pays it on the first message after idle,
 * whatever the pool does.
 *
 *   node idle-wake.mjs              full run (about a minute)
 *   node idle-wake.mjs --quick      smoke run, a few seconds
 *   --rounds=N --gaps=MS,MS,...     override the defaults; --python=CMD (or none)
 */
import { execFileSync, fork } from 'node:child_process';
import { rmSync, mkdtempSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMachine, formatTable, loadAverage, median, parseFlags, positiveInt } from './lib/harness.mjs';
import { hasPython } from './lib/python.mjs';

async function main() {
  const flags = parseFlags(process.argv.slice(2), ['quick', 'rounds', 'gaps', 'python'], { valued: ['rounds', 'gaps', 'python'] });
  const rounds = positiveInt(flags, 'rounds', flags.quick ? 1 : 3);
  const gaps = typeof flags.gaps === 'string' ? flags.gaps.split(',').map(Number) : flags.quick ? [10, 100] : [300, 3000, 9000];
  if (gaps.some((g) => !Number.isInteger(g) || g < 0)) throw new TypeError('--gaps takes milliseconds, comma separated');
  const pythonCommand = typeof flags.python === 'string' ? flags.python : 'python3';
  const python = pythonCommand !== 'none' && hasPython(pythonCommand) ? pythonCommand : null;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const ms = (x) => x.toFixed(2);

  const rows = [];
  const measure = async (name, once) => {
    const warm = [];
    for (let i = 0; i < 20; i++) warm.push(await once());
    const row = [name, ms(median(warm.slice(10)))];
    for (const gap of gaps) {
      const after = [];
      for (let r = 0; r < rounds; r++) {
        await sleep(gap);
        after.push(await once());
      }
      row.push(ms(median(after)));
    }
    rows.push(row);
  };
  const load = { start: loadAverage() };

  // Node ping; the child, the socket and its directory are gone afterwards, whatever happens.
  const dir = mkdtempSync(join(tmpdir(), 'mpool-wake-'));
  const server = createServer();
  let child;
  let socket;
  try {
    const path = join(dir, 'ping.sock');
    await new Promise((resolve) => server.listen(path, resolve));
    const accepted = new Promise((resolve) => server.once('connection', resolve));
    child = fork(fileURLToPath(import.meta.url), ['--echo', path], { execArgv: [] });
    const failed = new Promise((_, reject) => child.once('exit', (code) => reject(new Error(`the echoing child exited (${code}) before connecting`))));
    failed.catch(() => undefined); // its normal exit at the end is no failure
    socket = await Promise.race([accepted, failed]);
    let answered;
    socket.on('data', () => answered());
    const ping = () =>
      new Promise((resolve) => {
        const start = performance.now();
        answered = () => resolve(performance.now() - start);
        socket.write('x');
      });
    for (let i = 0; i < 200; i++) await ping();
    await measure('Node ping', ping);
  } finally {
    const exited = child === undefined || child.exitCode !== null ? undefined : new Promise((resolve) => child.once('exit', resolve));
    socket?.destroy();
    server.close();
    if (child?.connected) child.disconnect();
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
  if (python !== null) {
    const out = execFileSync(python, ['-c', PYTHON_PING, String(rounds), gaps.join(',')], { encoding: 'utf8' });
    const { warm, after } = JSON.parse(out);
    rows.push(['Python ping', ms(warm), ...after.map(ms)]);
  }
  load.end = loadAverage();
  const machine = describeMachine();
  console.log(`idle wake: ${machine.node}, ${machine.cpuModel}, ${machine.cores} cores; ${rounds} rounds a gap; load average ${load.start.join(' ')} → ${load.end.join(' ')}`);
  console.log(formatTable(['what', 'warm, ms', ...gaps.map((g) => `after ${g} ms idle, ms`)], rows));
}

/** The Python ping: a forked child echoes over pipes; prints {warm, after: [per gap]} in ms. */
const PYTHON_PING = `
import json, os, sys, time
rounds = int(sys.argv[1]); gaps = [int(g) / 1000 for g in sys.argv[2].split(',')]
to_child, child_in = os.pipe(); child_out, from_child = os.pipe()
if os.fork() == 0:
    os.close(child_in); os.close(child_out)
    while True:
        b = os.read(to_child, 1)
        if not b: os._exit(0)
        os.write(from_child, b)
def ping():
    s = time.perf_counter(); os.write(child_in, b'x'); os.read(child_out, 1); return (time.perf_counter() - s) * 1000
def median(xs):
    xs = sorted(xs); n = len(xs); return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
os.close(to_child); os.close(from_child)
for _ in range(200): ping()
warm = median([ping() for _ in range(20)][10:])
after = []
for gap in gaps:
    samples = []
    for _ in range(rounds):
        time.sleep(gap); samples.append(ping())
    after.append(median(samples))
os.close(child_in); os.wait()
print(json.dumps({'warm': warm, 'after': after}))
`;

if (process.argv[2] === '--echo') {
  // The child of the Node ping: echoes every byte until the parent closes the socket.
  const socket = connect(process.argv[3]);
  socket.on('data', (data) => socket.write(data));
  socket.on('close', () => process.exit(0));
} else {
  await main();
}
