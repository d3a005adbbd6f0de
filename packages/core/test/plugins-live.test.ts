/**
 * The worker's side of worker plugins: the real run loop, in this process over the fake backend's
 * in-memory channel, loads the plugin module its pool names (fixtures/marker-plugin.cjs) and
 * calls it around every task.
 */
import { join } from 'node:path';
import { registerWorkerPlugin, type SideChannel, type WorkerPlugin } from '@mpool/core';
import { settle } from './fake-executor.js';
import { useFakePools } from './pool-harness.js';

const fakePool = useFakePools();
const live = { live: true } as const;

/** What the plugin's pool half heard, from every worker, and the channels it was given. */
const heard: unknown[][] = [];
const channels: SideChannel[] = [];
const plugin: WorkerPlugin = {
  workerModule: join(__dirname, 'fixtures', 'marker-plugin.cjs'),
  open(channel) {
    channels.push(channel);
    return { deliver: (id, data) => heard.push([id, data]), close: () => undefined };
  },
};

beforeAll(() => registerWorkerPlugin(plugin));
beforeEach(() => {
  heard.length = 0;
  channels.length = 0;
});

test("the plugin is handed each task's arguments, a map's items and a starmap's argument lists, within the task", async () => {
  const { pool } = fakePool(1, live);
  expect(await pool.apply((a: unknown, b: unknown) => [a, b], [{ marker: 'x' }, 2])).toEqual(['x in task 1', 2]);
  expect(await pool.map((item: unknown) => item, [{ marker: 'a' }, 'b'], 2)).toEqual(['a in task 2', 'b']);
  expect(await pool.starmap((a: unknown, b: unknown) => `${String(a)}/${String(b)}`, [[{ marker: 'p' }, 1], [2, { marker: 'q' }]], 2)).toEqual(['p in task 3/1', '2/q in task 3']);
  expect(heard).toEqual([1, 2, 3].flatMap((task) => [[0, ['begin', task]], [0, ['end', task]]]));
});

test("the initializer's arguments are handed over outside any task", async () => {
  const { pool } = fakePool({
    processes: 1,
    initializer: (marker: unknown) => {
      (globalThis as Record<string, unknown>).mpoolPluginMarker = marker;
    },
    initargs: [{ marker: 'y' }],
  }, live);
  try {
    expect(await pool.apply(() => (globalThis as Record<string, unknown>).mpoolPluginMarker)).toBe('y in worker');
  } finally {
    delete (globalThis as Record<string, unknown>).mpoolPluginMarker;
  }
});

test("a frame from the plugin's pool half reaches its worker half, on that worker's side channel", async () => {
  const { pool } = fakePool(1, live);
  expect(await pool.apply((x: number) => x, [1])).toBe(1); // its begin and end open the channel
  expect(channels).toHaveLength(1);
  channels[0]!.send(9, 'ping');
  while (!heard.some(([id]) => id === 9)) await settle();
  expect(heard.filter(([id]) => id === 9)).toEqual([[9, ['echo', 'ping']]]);
});
