/**
 * Buffers moved rather than copied (`transfer()`), and memory shared: values arrive intact on every
 * context, as arguments, map items and results; on every context but 'bullmq' (where a cluster
 * copies) the sending side's buffer is detached, the pool's once its task is sent and a worker's
 * once its result is; a buffer that cannot be moved fails its own task only; a MessagePort moves
 * between threads only; a SharedArrayBuffer is shared with thread workers.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { DataCloneError, transfer, type ContextName } from '@mpool/pool';
import { addMoved, bumpMoved, describeView, describeViews, keptByteLength, makeMoved, moveTwice, moveView, sayOnPort, sqr, writeShared } from './fixtures';
import { drain, kindOf, range, rejectionOf, squares, usePools } from './helpers';

/** A Float64Array of `length`, `fill` plus its index at each place. */
function floats(length: number, fill = 0): Float64Array {
  const view = new Float64Array(length);
  for (let i = 0; i < length; i++) view[i] = fill + i;
  return view;
}

/** What describeView says of a view of `length` numbers from `fill` on, at `byteOffset` in a buffer of `bufferBytes`. */
function shape(length: number, fill: number, byteOffset = 0, bufferBytes = length * Float64Array.BYTES_PER_ELEMENT): Record<string, unknown> {
  return { kind: 'Float64Array', length, byteOffset, bufferBytes, first: fill, sum: length * fill + (length * (length - 1)) / 2 };
}

/** A buffer that has been moved away. */
function detached(): ArrayBuffer {
  const buffer = new ArrayBuffer(8);
  structuredClone(buffer, { transfer: [buffer] });
  return buffer;
}

/** Polls `port` until a message comes; undefined after `limitMs`. */
async function nextMessage(port: MessagePort, limitMs = 10_000): Promise<unknown> {
  const giveUpAt = Date.now() + limitMs;
  for (;;) {
    const received = receiveMessageOnPort(port);
    if (received !== undefined) return received.message;
    if (Date.now() > giveUpAt) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function transferTests(context: ContextName): void {
  /** Whether the sending side's buffers are detached: everywhere but on a cluster, which copies. */
  const moves = context !== 'bullmq';
  /** Whether the workers are threads of this process. */
  const threads = context === 'thread' || context === 'auto';
  const bytesAfterSend = (bytes: number): number => (moves ? 0 : bytes);
  /**
   * What a view arrived as, against what was sent. On a cluster a view arrives copied on its own,
   * wherever the copy puts it: only its kind, length and contents are compared there.
   */
  const expectArrived = (got: unknown, sent: Record<string, unknown>): void => {
    expect(got).toEqual(moves ? sent : { ...sent, byteOffset: expect.any(Number), bufferBytes: expect.any(Number) });
  };

  describe('transfer() and shared memory', () => {
    const newPool = usePools(context);

    test(`an argument given with transfer() arrives intact, and the sender's buffer ${moves ? 'is detached once it is sent' : 'stays as it was (a cluster copies)'}`, async () => {
      const pool = newPool();
      const view = floats(1000, 3);
      expectArrived(await pool.apply(describeView, [transfer(view, [view.buffer])]), shape(1000, 3));
      expect(view.byteLength).toBe(bytesAfterSend(8000));
      expect(view.buffer.byteLength).toBe(bytesAfterSend(8000));
    });

    test('views keep their place in a moved buffer, and other arguments travel beside them as they are', async () => {
      const pool = newPool();
      const buffer = new ArrayBuffer(64);
      const whole = new Uint8Array(buffer).fill(1);
      const middle = new Float64Array(buffer, 16, 4).fill(2.5);
      const wholeSum = whole.reduce((sum, byte) => sum + byte, 0);
      const copied = floats(3, 7);
      const [a, b, c] = await pool.apply(describeViews, [transfer(whole, [buffer]), middle, copied]);
      expectArrived(a, { ...shape(64, 1, 0, 64), kind: 'Uint8Array', sum: wholeSum });
      expectArrived(b, { ...shape(4, 2.5, 16, 64), sum: 10 });
      // Copied, not moved: wherever the copy puts it, as any typed array argument.
      expect(c).toEqual({ ...shape(3, 7), byteOffset: expect.any(Number), bufferBytes: expect.any(Number) });
      expect(buffer.byteLength).toBe(bytesAfterSend(64));
      expect(copied.byteLength).toBe(24);
    });

    test(`a task's result returned with transfer() arrives intact${moves ? ", and the worker's own buffer is detached" : ''}`, async () => {
      const pool = newPool(1);
      const back = await pool.apply(makeMoved, [500, 0.5]);
      expect(kindOf(back)).toBe('Float64Array');
      expect(Array.from(back)).toEqual(Array.from(floats(500, 0.5)));
      // The next task, on the same (only) worker, looks at what the first kept.
      if (context !== 'bullmq') expect(await pool.apply(keptByteLength)).toBe(0);
    });

    test('map items given with transfer() arrive intact, and come back in order as the task hands them back', async () => {
      const pool = newPool();
      const views = range(12).map((i) => floats(100, i * 10));
      const back = await pool.map(bumpMoved, views.map((view) => transfer(view, [view.buffer])), 3);
      expect(back.map(kindOf)).toEqual(range(12).map(() => 'Float64Array'));
      expect(back.map((view) => view[0])).toEqual(range(12).map((i) => i * 10 + 1));
      expect(back.map((view) => view[99])).toEqual(range(12).map((i) => i * 10 + 99));
      expect(views.map((view) => view.byteLength)).toEqual(range(12).map(() => bytesAfterSend(800)));
    });

    test('starmap arguments, and imap and imapUnordered items, given with transfer() arrive intact', async () => {
      const pool = newPool();
      const forStarmap = range(6).map((i) => floats(50, i));
      const summed = await pool.starmap(addMoved, forStarmap.map((view, i) => [transfer(view, [view.buffer]), 100 * i] as [Float64Array, number]), 2);
      expect(summed.map((view) => view[0])).toEqual(range(6).map((i) => i + 100 * i));
      expect(forStarmap.map((view) => view.byteLength)).toEqual(range(6).map(() => bytesAfterSend(400)));

      const forImap = range(8).map((i) => floats(50, i));
      const ordered = await drain(pool.imap(bumpMoved, forImap.map((view) => transfer(view, [view.buffer])), 2));
      expect(ordered.failed).toBe(false);
      expect(ordered.values.map((view) => view[0])).toEqual(range(8).map((i) => i + 1));
      const forUnordered = range(8).map((i) => floats(50, i));
      const unordered = await drain(pool.imapUnordered(describeView, forUnordered.map((view) => transfer(view, [view.buffer]))));
      expect(unordered.values.map((d) => d.first).sort((x, y) => x - y)).toEqual(range(8));
      expect([...forImap, ...forUnordered].every((view) => view.byteLength === bytesAfterSend(400))).toBe(true);
    });

    test(`a map whose results come back with transfer() arrives whole${moves ? ', and leaves none of them behind in the worker' : ''}`, async () => {
      const pool = newPool(1);
      const back = await pool.map(makeMoved, range(10), 2);
      expect(back.map((view) => view.length)).toEqual(range(10));
      if (context !== 'bullmq') expect(await pool.apply(keptByteLength)).toBe(0);
    });

    test('a typed array a task is given has a buffer of its own, however big the message that brought it', async () => {
      // What `transfer(view, [view.buffer])` in a task needs: the view's own bytes, not a message's.
      const pool = newPool();
      const views = range(4).map((i) => floats(100_000, i));
      const places = await pool.map((view: Float64Array) => [view.byteOffset, view.buffer.byteLength, view.byteLength], views, 4);
      expect(places).toEqual(range(4).map(() => [0, 800_000, 800_000]));
    });

    test('a typed array a task returns comes back as one', async () => {
      const pool = newPool();
      const back = await pool.apply((n: number) => Float64Array.from({ length: n }, (_, i) => i / 2), [5]);
      expect(kindOf(back)).toBe('Float64Array');
      expect(Array.from(back)).toEqual([0, 0.5, 1, 1.5, 2]);
    });

    test('a buffer that cannot be moved fails its own task with DataCloneError saying why; the others run', async () => {
      const pool = newPool();
      const good = floats(10, 1);
      const twice = floats(10);
      const shared = new SharedArrayBuffer(8);
      const view = floats(4);
      const results = [
        pool.applyAsync(describeView, [transfer(good, [good.buffer])]),
        pool.applyAsync(describeView, [transfer(floats(2), [detached()])]),
        pool.applyAsync(describeView, [transfer(twice, [twice.buffer, twice.buffer])]),
        pool.applyAsync(describeView, [transfer(view, [view as unknown as ArrayBuffer])]),
        pool.applyAsync(sqr, [transfer(3, [shared as unknown as ArrayBuffer])]),
        pool.applyAsync(sqr, [4]),
      ];
      await Promise.all(results.map((result) => result.wait()));
      expectArrived(await results[0], shape(10, 1));
      const reasons = await Promise.all(results.slice(1, 5).map((result) => rejectionOf(result.get())));
      for (const reason of reasons) expect(reason).toBeInstanceOf(DataCloneError);
      expect(reasons.map((reason) => (reason as Error).message)).toEqual([
        expect.stringMatching(/item 0 of the transfer list is a detached ArrayBuffer/),
        expect.stringMatching(/item 1 of the transfer list is listed twice/),
        expect.stringMatching(/item 0 of the transfer list is a Float64Array, not an ArrayBuffer: list its \.buffer/),
        expect.stringMatching(/item 0 of the transfer list is a SharedArrayBuffer/),
      ]);
      expect(await results[5]).toBe(16);
      // Nothing of a refused task was moved.
      expect(twice.byteLength).toBe(80);
      expect(view.byteLength).toBe(32);
    });

    test('a result that cannot be moved fails its task with DataCloneError; its worker goes on', async () => {
      const pool = newPool(1);
      await expect(pool.apply(moveTwice, [4])).rejects.toThrow(/transfer\(\): item 1 of the transfer list is listed twice/);
      const error = await rejectionOf(pool.apply(moveView, [4]));
      expect(error).toBeInstanceOf(DataCloneError);
      expect((error as Error).message).toMatch(/a Float64Array, not an ArrayBuffer/);
      expect(await pool.map(sqr, range(10), 3)).toEqual(squares(10));
    });

    test('a map with an item that cannot be moved rejects with DataCloneError, and the pool maps again', async () => {
      const pool = newPool();
      const items = range(6).map((i) => floats(10, i));
      const marked = items.map((view, i) => transfer(view, [i === 4 ? detached() : view.buffer]));
      await expect(pool.map(bumpMoved, marked, 1)).rejects.toBeInstanceOf(DataCloneError);
      expect(await pool.map(sqr, range(10), 2)).toEqual(squares(10));
    });

    test('a transfer() marker inside another value fails its task with DataCloneError saying where markers go', async () => {
      const pool = newPool();
      const view = floats(4);
      const error = await rejectionOf(pool.apply(describeView, [{ inner: transfer(view, [view.buffer]) } as unknown as Float64Array]));
      expect(error).toBeInstanceOf(DataCloneError);
      expect((error as Error).message).toMatch(/a marker goes around a task argument, a map item or a task result, not inside one/);
      expect(view.byteLength).toBe(32);
    });

    test(threads ? 'a MessagePort given with transfer() moves to the worker, which talks on it' : 'a MessagePort cannot cross to this context\'s workers: DataCloneError says so', async () => {
      const pool = newPool();
      const { port1, port2 } = new MessageChannel();
      try {
        const sent = pool.apply(sayOnPort, [transfer(port2, [port2]) as never, 'hello from the worker']);
        if (threads) {
          expect(await sent).toBe('said');
          expect(await nextMessage(port1)).toBe('hello from the worker');
        } else {
          const error = await rejectionOf(sent);
          expect(error).toBeInstanceOf(DataCloneError);
          expect((error as Error).message).toMatch(/MessagePort/);
        }
      } finally {
        port1.close();
        port2.close();
      }
    });

    test(threads ? 'a SharedArrayBuffer is shared with thread workers: what a worker writes, the pool\'s side sees' : 'a SharedArrayBuffer cannot be shared with this context\'s workers: DataCloneError says so', async () => {
      const pool = newPool();
      const shared = new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT);
      const view = new Int32Array(shared);
      const written = pool.apply(writeShared, [shared, 2, 42]);
      if (threads) {
        expect(await written).toBe('worker thread');
        expect(Atomics.load(view, 2)).toBe(42);
        expect(shared.byteLength).toBe(16); // shared, never moved
      } else {
        expect(await rejectionOf(written)).toBeInstanceOf(DataCloneError);
        expect(Atomics.load(view, 2)).toBe(0);
      }
    });
  });
}
