/**
 * A worker's packed results (numbers.ts) are written into scratch space that the next batch
 * reuses, but only once the channel has written the batch out: a channel that still holds a
 * batch when its `post` returns (it says so with `holdPacked`) keeps that batch's bytes as they were.
 */
import type { WorkerChannel } from '../src/executor.js';
import { holdPacked, isPackedNumbers, packedView } from '../src/numbers.js';
import { PackedNumbersWorkerCodec } from '../src/worker/codecs.js';
import { runWorker } from '../src/worker/run-loop.js';
import { MessageKind, RunMode } from '../src/wire.js';

const count = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

/** A worker on a channel that has `written` each message out when `post` returns, or holds it; returns a way to run a map chunk and get its posted results. */
function startWorker(written: boolean): (items: number[]) => Promise<Uint8Array> {
  let deliver: ((message: unknown) => void) | undefined;
  let waiting: ((message: unknown[]) => void) | undefined;
  const channel: WorkerChannel = {
    codec: new PackedNumbersWorkerCodec(),
    post: (message) => {
      waiting?.(message);
      if (!written) for (const value of message) if (isPackedNumbers(value)) holdPacked(value);
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

/**
 * A worker on a channel that packs numbers; `transient`: the packed chunks it hands over are
 * views of one buffer that the channel writes over as soon as the handler returns, as a socket
 * reading into a buffer of its own does. Returns a way to send one message of map chunks (each
 * chunk's numbers packed) and get the results the worker posts for them, in order.
 */
function startMapWorker(source: string, transient: boolean): (chunks: number[][]) => Promise<unknown[]> {
  let deliver: ((message: unknown) => void) | undefined;
  /** Every chunk's results, in the order the worker posted them (it answers in order). */
  const answers: unknown[] = [];
  let reserved = 0;
  const wakers = new Set<() => void>();
  const channel: WorkerChannel = {
    codec: new PackedNumbersWorkerCodec({ lendsPayloads: transient }),
    post: (message) => {
      if (message[0] === MessageKind.Results) {
        // copied at once: packed results are views of the worker's scratch space
        for (let i = 3; i < message.length; i += 2) {
          const value = message[i];
          answers.push(isPackedNumbers(value) ? Array.from(packedView(value)) : value);
        }
        for (const wake of wakers) wake();
      }
    },
    onMessage: (handler) => {
      deliver = handler;
    },
    close: () => undefined,
  };
  runWorker(channel, { initializer: undefined, initargs: [] });
  // A Buffer, as a socket reads into: its `slice` is a view, not a copy.
  const shared = Buffer.alloc(1 << 16);
  let defined = false;
  return async (chunks) => {
    const message: unknown[] = [MessageKind.Run, defined ? 0 : [[1, { kind: 'source', source, label: 'task' }]]];
    defined = true;
    let offset = 0;
    for (const chunk of chunks) {
      const bytes = transient ? shared.subarray(offset, offset + chunk.length * 8) : new Uint8Array(chunk.length * 8);
      new Float64Array(bytes.buffer, bytes.byteOffset, chunk.length).set(chunk);
      offset += bytes.length;
      message.push(1, RunMode.Map, bytes);
    }
    const first = reserved;
    reserved += chunks.length;
    deliver!(message);
    if (transient) shared.fill(0xff); // written over, as the next read would
    while (answers.length < first + chunks.length) {
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          wakers.delete(wake);
          resolve();
        };
        wakers.add(wake);
      });
    }
    return answers.slice(first, first + chunks.length);
  };
}

const doubled = (chunk: number[]): number[] => chunk.map((x) => x * 2);

test('map results that are all numbers come back packed; one that is not turns the chunk back into an array, the numbers before it kept as they were', async () => {
  const run = startMapWorker('(x) => x === 0 ? -0 : x === 1 ? NaN : x === 70 ? "seventy" : x * 2', false);
  const [mixed] = (await run([count(100)])) as [unknown[]];
  expect(Array.isArray(mixed)).toBe(true);
  expect(Object.is(mixed[0], -0)).toBe(true);
  expect(mixed[1]).toBeNaN();
  expect(mixed.slice(2)).toEqual(count(98, 2).map((x) => (x === 70 ? 'seventy' : x * 2)));
  const [numbers] = await run([count(100, 100)]);
  expect(numbers).toEqual(doubled(count(100, 100)));
});

test('a map chunk that throws midway reports the numbers before it', async () => {
  let posted: unknown[] | undefined;
  let deliver: ((message: unknown) => void) | undefined;
  runWorker(
    {
      codec: new PackedNumbersWorkerCodec(),
      post: (message) => {
        if (message[0] === MessageKind.Results) posted = message;
      },
      onMessage: (handler) => {
        deliver = handler;
      },
      close: () => undefined,
    },
    { initializer: undefined, initargs: [] },
  );
  const source = '(x) => { if (x === 80) throw new RangeError("eighty"); return x + 0.5; }';
  deliver!([MessageKind.Run, [[1, { kind: 'source', source, label: 'task' }]], 1, RunMode.Map, count(100)]);
  while (posted === undefined) await new Promise((resolve) => setImmediate(resolve));
  const [status, [index, before]] = posted.slice(2) as [number, [number, unknown[]]];
  expect(status).toBe(2); // ResultStatus.ChunkThrew
  expect(index).toBe(80);
  expect(before).toEqual(count(80).map((x) => x + 0.5));
});

describe('a channel whose packed chunks are written over once the handler returns', () => {
  test('chunks of a message still to run when the worker waits (loading the function) are copied first', async () => {
    const run = startMapWorker('(x) => x * 2', true);
    const chunks = [count(100), count(100, 1000), count(100, 2000)];
    expect(await run(chunks)).toEqual(chunks.map(doubled));
  });

  test('an async task reads the rest of its chunk, and the chunks after it, as they were', async () => {
    const run = startMapWorker('async (x) => { await null; return x * 2; }', true);
    const first = [count(100), count(100, 1000)];
    expect(await run(first)).toEqual(first.map(doubled));
    const second = [count(100, 5000), count(100, 6000)];
    expect(await run(second)).toEqual(second.map(doubled));
  });

  test('a message that comes while a task waits keeps its chunks', async () => {
    let release: (() => void) | undefined;
    (globalThis as { __mpoolGate?: Promise<void> }).__mpoolGate = new Promise<void>((resolve) => (release = resolve));
    const run = startMapWorker('(x) => x === 0 ? globalThis.__mpoolGate.then(() => 0) : x * 2', true);
    const waiting = run([count(100)]);
    const behind = run([count(100, 3000)]);
    release!();
    expect(await waiting).toEqual([doubled(count(100))]);
    expect(await behind).toEqual([doubled(count(100, 3000))]);
    delete (globalThis as { __mpoolGate?: Promise<void> }).__mpoolGate;
  });
});
