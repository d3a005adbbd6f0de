/**
 * The pool's side of worker plugins, over the fake backend: which workers hear of a plugin and
 * when, and how frames on a worker's side channel reach the plugin's peer for that worker and
 * back. (The registry is the process's: each test registers a plugin of its own.)
 */
import { registerWorkerPlugin, type SideChannel, type SidePeer, type WorkerPlugin } from '@mpool/core';
import { MessageKind } from '../src/wire.js';
import { settle, type FakeWorker } from './fake-executor.js';
import { useFakePools } from './pool-harness.js';

const fakePool = useFakePools();

const double = (x: number): number => x * 2;

/** A plugin whose peers write down what they hear, and keep their channels for the test to send on. */
function recordingPlugin(workerModule: string): WorkerPlugin & { readonly peers: { channel: SideChannel; heard: unknown[][]; closed: boolean }[] } {
  const peers: { channel: SideChannel; heard: unknown[][]; closed: boolean }[] = [];
  return {
    workerModule,
    peers,
    open(channel: SideChannel): SidePeer {
      const peer = { channel, heard: [] as unknown[][], closed: false };
      peers.push(peer);
      return {
        deliver: (id, data) => peer.heard.push([id, data]),
        close: () => {
          peer.closed = true;
        },
      };
    },
  };
}

/** The number `worker` knows `plugin` by. */
function numberOf(worker: FakeWorker, plugin: WorkerPlugin): number {
  const index = worker.plugins.indexOf(plugin.workerModule);
  if (index < 0) throw new Error(`worker ${worker.id} has not heard of ${plugin.workerModule}`);
  return index;
}

test('a plugin registered after a worker started is announced to it once, just before its next RUN; a worker started later has it in its WorkerInit', async () => {
  const { pool, executor } = fakePool(1);
  const [worker] = executor.workers;
  worker.ready();
  const plugin = recordingPlugin('/plugins/announced.js');
  expect(worker.init.plugins ?? []).not.toContain(plugin.workerModule);
  registerWorkerPlugin(plugin);
  registerWorkerPlugin(plugin); // once is enough
  const results = [pool.applyAsync(double, [1])];
  await settle();
  const kinds = worker.sent.map((message) => message[0]);
  expect(kinds.slice(-2)).toEqual([MessageKind.Plugins, MessageKind.Run]);
  expect(worker.sent[kinds.length - 2]![1]).toEqual([plugin.workerModule]);
  worker.answer(double);
  results.push(pool.applyAsync(double, [2]));
  await settle();
  worker.answer(double);
  expect(await Promise.all(results)).toEqual([2, 4]);
  expect(worker.sent.filter((message) => message[0] === MessageKind.Plugins)).toHaveLength(1);

  const { executor: later } = fakePool(1);
  expect(later.workers[0].init.plugins).toContain(plugin.workerModule);
});

test("a worker's frames open its peer once and reach it; the peer's sends reach that worker; a worker terminated closes its peer and is heard no more", async () => {
  const plugin = recordingPlugin('/plugins/frames.js');
  registerWorkerPlugin(plugin);
  const { pool, executor } = fakePool(2);
  for (const worker of executor.workers) worker.ready();
  const [first, second] = executor.workers;
  const n = numberOf(first, plugin);
  first.tell([MessageKind.Side, n, 5, 'call']);
  first.tell([MessageKind.Side, n, 6, 'another']);
  second.tell([MessageKind.Side, n, 5, 'call']);
  expect(plugin.peers.map((peer) => peer.heard)).toEqual([[[5, 'call'], [6, 'another']], [[5, 'call']]]);

  plugin.peers[0]!.channel.send(5, 'answer');
  expect(first.sent).toContainEqual([MessageKind.Side, n, 5, 'answer']);
  expect(second.sent).not.toContainEqual([MessageKind.Side, n, 5, 'answer']);
  expect(() => plugin.peers[0]!.channel.send(5, () => 0)).toThrow(/could not be cloned/);

  // A task with a timeout that runs past it: its worker is terminated.
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
  try {
    const late = pool.applyAsync(double, [1], { timeout: 10 });
    await settle();
    const running = executor.workers.find((worker) => worker.unanswered.length > 0)!;
    jest.advanceTimersByTime(10);
    const peer = plugin.peers[running === first ? 0 : 1]!;
    expect(peer.closed).toBe(true);
    running.tell([MessageKind.Side, n, 7, 'too late']); // before its exit comes
    expect(peer.heard).not.toContainEqual([7, 'too late']);
    expect(plugin.peers).toHaveLength(2);
    await expect(late.get()).rejects.toHaveProperty('name', 'TimeoutError');
  } finally {
    jest.useRealTimers();
  }
});

test('frames that name no plugin are dropped', () => {
  const { executor } = fakePool(1);
  const [worker] = executor.workers;
  worker.ready();
  expect(() => worker.tell([MessageKind.Side, 10_000, 1, 'nobody'])).not.toThrow();
});
