/**
 * A Node system as an entry of `runInterleaved` that runs in a process of its own
 * (lib/node-runner.mjs), as each Python system does: the interleaving and the medians are the
 * same as for an entry in this process, but no system's garbage collection or heap lands in
 * another system's measurement.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RUNNER = fileURLToPath(new URL('node-runner.mjs', import.meta.url));
/** No start-up or run takes a minute, even on a busy machine: one that does is stuck, and fails. */
const ANSWER_LIMIT_MS = 60_000;
/** How long the runner has to close its pools and exit once told to stop. */
const STOP_LIMIT_MS = 15_000;
/** How much of the end of a runner's stderr an error about its exit quotes. */
const LAST_WORDS_CHARS = 2000;
/** How long, after a runner exits, its stderr may take to reach its end. */
const LAST_WORDS_WAIT_MS = 1000;

/** The system `adapter` (from pools.mjs) running benchmark `benchmark` with `config` (JSON data). */
export function isolatedEntry(adapter, benchmark, config) {
  let child;
  let exited;
  const waiting = [];
  let failure = null;
  const fail = (error) => {
    failure ??= error;
    for (const { reject } of waiting.splice(0)) reject(failure);
  };
  const next = (what) =>
    new Promise((resolve, reject) => {
      if (failure !== null) return reject(failure);
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        fail(new Error(`${label}: no answer to ${what} within ${ANSWER_LIMIT_MS / 1000} s; its process was killed`));
      }, ANSWER_LIMIT_MS);
      const settle = (fn) => (value) => {
        clearTimeout(timer);
        fn(value);
      };
      waiting.push({ resolve: settle(resolve), reject: settle(reject) });
    });
  const ask = async (command, kind) => {
    const reply = next(`\`${command}${kind === undefined ? '' : ` ${kind}`}\``);
    child.send({ command, kind });
    return reply;
  };
  const label = `${adapter.name} (${benchmark})`;
  return {
    ...adapter,
    async start() {
      child = fork(RUNNER, [benchmark, adapter.name, JSON.stringify(config)], { serialization: 'json', stdio: ['inherit', 'inherit', 'pipe', 'ipc'] });
      // Its stderr goes on to ours, and its end is kept: a process that dies says why in the error.
      let lastWords = '';
      child.stderr.on('data', (data) => {
        process.stderr.write(data);
        lastWords = (lastWords + data).slice(-LAST_WORDS_CHARS);
      });
      // Its workers may hold the pipe open a while after it dies: wait for its last words, not for them.
      const stderrDone = new Promise((resolve) => {
        child.stderr.once('close', resolve);
        child.once('exit', () => setTimeout(resolve, LAST_WORDS_WAIT_MS).unref());
      });
      exited = new Promise((resolve) => {
        child.on('exit', async (code, signal) => {
          await stderrDone;
          fail(new Error(`${label}: its process exited with ${signal ?? `code ${code}`}${lastWords === '' ? '' : `; the end of its stderr:\n${lastWords}`}`));
          resolve(code);
        });
      });
      child.on('error', fail);
      child.on('message', (message) => {
        const waiter = waiting.shift();
        if (waiter === undefined) return;
        if (message.error !== undefined) waiter.reject(new Error(`${label}: ${message.error}`));
        else waiter.resolve(message.result);
      });
      await next('start-up');
    },
    /** One run; `kind` picks one of the benchmark's measurements where it has several. */
    measure: (kind) => ask('run', kind),
    warmup: () => ask('warmup'),
    async stop() {
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
      child.send({ command: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_LIMIT_MS);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0) throw new Error(`${label}: its process exited with code ${code}`);
    },
  };
}
