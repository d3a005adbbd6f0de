/**
 * A worker's packed results (numbers.ts) are written into scratch space that the next batch
 * reuses, but only once the channel says the batch is written out: a channel that still holds a
 * batch (`post` returned false) keeps that batch's bytes as they were.
 */
import type { WorkerChannel } from '@mpool/core';
import { isPackedNumbers, packedView } from '../src/numbers.js';
import { runWorker } from '../src/worker/run-loop.js';
import { MessageKind, RunMode } from '../src/wire.js';

const count = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

/** A worker on a channel whose `post` answers `written`; returns a way to run a map chunk and get its posted results. */
function startWorker(written: boolean): (items: number[]) => Promise<Uint8Array> {
  let deliver: ((message: unknown) => void) | undefined;
  let waiting: ((message: unknown[]) => void) | undefined;
  const channel: WorkerChannel = {
    packsNumbers: true,
    post: (message) => {
      waiting?.(message);
      return written;
    },
    onMessage: (handler) => {
      deliver = handler;
    },
    close: () => undefined,
  };
  runWorker(channel, { initializer: undefined, initargs: [] });
  let defined = false;
  return (items) => {
    const posted = new Promise<unknown[]>((resolve) => {
      waiting = (message) => {
        if (message[0] === MessageKind.Results) resolve(message);
      };
    });
    const defs = defined ? 0 : [[1, { kind: 'source', source: '(x) => x * 2', label: 'double' }]];
    defined = true;
    deliver!([MessageKind.Run, defs, 1, RunMode.Map, items]);
    return posted.then((message) => {
      const value = message[3];
      if (!isPackedNumbers(value)) throw new Error('the results did not come packed');
      return value;
    });
  };
}

const numbers = (bytes: Uint8Array): number[] => Array.from(packedView(bytes));

test('a batch the channel still holds keeps its packed results while the next batch is packed', async () => {
  const run = startWorker(false);
  const first = await run(count(100));
  const second = await run(count(100, 1000));
  expect(numbers(first)).toEqual(count(100).map((x) => x * 2));
  expect(numbers(second)).toEqual(count(100, 1000).map((x) => x * 2));
});

test('a batch written out gives its space to the next one', async () => {
  const run = startWorker(true);
  const first = await run(count(100));
  const expected = count(100).map((x) => x * 2);
  expect(numbers(first)).toEqual(expected);
  await run(count(100, 1000));
  // the same space, written over: what the test above shows does not happen while a batch is held
  expect(numbers(first)).not.toEqual(expected);
});
