#!/usr/bin/env node
/**
 * Waiting for results, as in the article's "Waiting for processes": `applyAsync` returns an
 * AsyncResult at once; `ready()`, `successful()`, `wait(ms)` and `get(ms)` tell how it is doing,
 * and `callback` / `errorCallback` hear about it when it settles.
 *
 *   node examples/waiting.mjs [--task-ms 1000] [--timeout-ms 200] [--workers 2] [--context auto]
 *
 * The slow task takes `--task-ms`; `wait` and `get` are given `--timeout-ms`, which must be well
 * under half of it, so that `wait(ms)` comes back early and `get(ms)` times out.
 */
import { parseArgs } from 'node:util';
import { Pool, ResultNotReadyError, TimeoutError, task } from '@mpool/pool';

const { values } = parseArgs({
  options: {
    'task-ms': { type: 'string', default: '1000' },
    'timeout-ms': { type: 'string', default: '200' },
    workers: { type: 'string', default: '2' },
    context: { type: 'string', default: 'auto' },
  },
});
const taskMs = Number(values['task-ms']);
const timeoutMs = Number(values['timeout-ms']);
const workers = Number(values.workers);
// wait(timeoutMs) and then get(timeoutMs) both have to end before the task does.
if (!(3 * timeoutMs <= taskMs)) {
  console.error(`--timeout-ms (${timeoutMs}) must be at most a third of --task-ms (${taskMs})`);
  process.exit(2);
}

const tasks = new URL('./waiting-task.mjs', import.meta.url);
const slowSquare = task(tasks, 'slowSquare');
const checkedSqrt = task(tasks, 'checkedSqrt');

const since = (start) => `${Math.round(performance.now() - start)} ms`;

const pool = new Pool({ processes: workers, context: values.context });
try {
  // The slow task's worker starts and runs it while this script goes on.
  const started = performance.now();
  const result = pool.applyAsync(slowSquare, [7, taskMs]);
  console.log(`applyAsync(slowSquare, [7, ${taskMs}]) on ${pool.processes} workers (${pool.context})`);
  console.log(`  right away: ready() is ${result.ready()}`);
  try {
    result.successful();
  } catch (error) {
    if (!(error instanceof ResultNotReadyError)) throw error;
    console.log(`  successful() throws ${error.name} while it runs`);
  }

  await result.wait(timeoutMs);
  console.log(`  wait(${timeoutMs}) came back after ${since(started)}: ready() is ${result.ready()}`);

  const getStarted = performance.now();
  try {
    await result.get(timeoutMs);
    console.log(`  get(${timeoutMs}) returned a value: the task finished sooner than it should have`);
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error;
    console.log(`  get(${timeoutMs}) timed out after ${since(getStarted)}: ${error.name}: ${error.message}`);
  }

  // The article's polling loop: wait a little, look, do something else, wait again. The timeout
  // above did not cancel the task; it is still running.
  let polls = 0;
  while (!result.ready()) {
    await result.wait(timeoutMs);
    polls += 1;
  }
  console.log(`  polled with wait(${timeoutMs}) ${polls} more times; ready() became true after ${since(started)}`);
  console.log(`  successful() is ${result.successful()}, get() gives ${await result.get()}`);

  console.log('callbacks');
  const heard = [];
  const ok = pool.applyAsync(slowSquare, [8, 0], {
    callback: (value) => heard.push(`callback(${value})`),
  });
  const failed = pool.applyAsync(checkedSqrt, [-1], {
    errorCallback: (error) => heard.push(`errorCallback(${error.name} ${error.code}: ${error.message})`),
  });
  await Promise.all([ok.wait(), failed.wait()]);
  // Callbacks run before wait() resolves, so both have been heard by now.
  for (const line of heard) console.log(`  ${line}`);
  console.log(`  the failed result: ready() is ${failed.ready()}, successful() is ${failed.successful()}`);
  try {
    await failed.get();
  } catch (error) {
    console.log(`  get() rejects with the task's own error: instanceof RangeError ${error instanceof RangeError}, code ${error.code}`);
  }

  const squares = await new Promise((resolve, reject) => {
    pool.starmapAsync(slowSquare, [[1, 0], [2, 0], [3, 0], [4, 0]], { callback: resolve, errorCallback: reject });
  });
  console.log(`  starmapAsync's callback got the whole list at once: [${squares.join(', ')}]`);
} finally {
  await pool.terminate();
}
