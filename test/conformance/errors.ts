/**
 * What comes back when a task fails: its error, kept as faithfully as a copy allows (CPython:
 * test_wrapped_exception, test_traceback, test_async_error_callback).
 */
import { MpoolError, TimeoutError, type ContextName } from '@mpool/pool';
import {
  HOSTILE_KINDS,
  hostileItem,
  rejectTypeError,
  throwAggregate,
  throwBuiltinSubclass,
  throwCustom,
  throwHostile,
  throwTypeError,
  throwValue,
  throwWithCause,
  throwWithProps,
  throwWithValueCause,
  workerId,
  throwMpoolTimeout,
} from './fixtures';
import { rejectionOf, useSharedPool } from './helpers';

export function errorTests(context: ContextName): void {
  describe('task errors', () => {
    const pool = useSharedPool(context);

    test('a built-in error comes back as the same class, with its name and message', async () => {
      const error = await rejectionOf(pool().apply(throwTypeError, ['not a number']));
      expect(error).toBeInstanceOf(TypeError);
      expect(error).toMatchObject({ name: 'TypeError', message: 'not a number' });
    });

    test('own properties such as code travel with the error', async () => {
      const error = await rejectionOf(pool().apply(throwWithProps, ['too far']));
      expect(error).toBeInstanceOf(RangeError);
      expect(error).toMatchObject({ name: 'RangeError', message: 'too far', code: 'E_OUT_OF_RANGE', errno: -34, details: { limit: 10, seen: [11, 12] } });
    });

    test('the stack is the worker’s, pointing into the task module', async () => {
      const error = await rejectionOf(pool().apply(throwTypeError, ['where from']));
      const { stack } = error as Error;
      expect(stack).toContain('TypeError: where from');
      expect(stack).toContain('errors.mjs');
      expect(stack).toContain('throwTypeError');
    });

    test('a subclass of a built-in comes back as that built-in, keeping its own name and properties', async () => {
      const error = await rejectionOf(pool().apply(throwBuiltinSubclass, [503]));
      expect(error).toBeInstanceOf(TypeError);
      expect(error).toMatchObject({ name: 'HttpError', message: 'request failed with status 503', status: 503 });
    });

    test('a custom error class keeps its name, message and properties', async () => {
      const error = await rejectionOf(pool().apply(throwCustom, ['email']));
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({ name: 'ValidationError', message: 'invalid field email', field: 'email' });
      expect((error as Error).stack).toContain('errors.mjs');
    });

    test('the cause chain is kept', async () => {
      const error = await rejectionOf(pool().apply(throwWithCause, ['outer']));
      expect(error).toHaveProperty('message', 'outer');
      const middle = (error as Error).cause;
      expect(middle).toBeInstanceOf(Error);
      expect(middle).toHaveProperty('message', 'in the middle');
      const root = (middle as Error).cause;
      expect(root).toBeInstanceOf(SyntaxError);
      expect(root).toHaveProperty('message', 'the root of it');
    });

    test('one of mpool’s own errors comes back as its class (a task may run a pool of its own)', async () => {
      const error = await rejectionOf(pool().apply(throwMpoolTimeout, ['inner pool timed out']));
      expect(error).toBeInstanceOf(TimeoutError);
      expect(error).toBeInstanceOf(MpoolError);
      expect(error).toMatchObject({ name: 'TimeoutError', message: 'inner pool timed out' });
    });

    test('a cause that is not an error is kept as a value', async () => {
      const error = await rejectionOf(pool().apply(throwWithValueCause));
      expect((error as Error).cause).toEqual({ reason: 'quota', left: 0 });
    });

    test('an AggregateError keeps its errors', async () => {
      const error = await rejectionOf(pool().apply(throwAggregate));
      expect(error).toBeInstanceOf(AggregateError);
      const { errors } = error as AggregateError;
      expect(errors).toHaveLength(2);
      expect(errors[0]).toBeInstanceOf(TypeError);
      expect(errors[1]).toBeInstanceOf(RangeError);
    });

    test.each([
      ['a string', 'just a string'],
      ['a number', 42],
      ['null', null],
      ['a plain object', { reason: 'not an error', list: [1, 2] }],
    ])('a thrown value that is not an error (%s) comes back as it was', async (_, thrown) => {
      expect(await rejectionOf(pool().apply(throwValue, [thrown]))).toEqual(thrown);
    });

    test('an async task that rejects fails the same way as one that throws', async () => {
      const error = await rejectionOf(pool().apply(rejectTypeError, ['later']));
      expect(error).toBeInstanceOf(TypeError);
      expect(error).toHaveProperty('message', 'later');
    });

    test('the errorCallback gets the rebuilt error', async () => {
      const seen: unknown[] = [];
      const result = pool().applyAsync(throwWithProps, ['called back'], { errorCallback: (error) => seen.push(error) });
      await result.wait();
      expect(seen).toHaveLength(1);
      expect(seen[0]).toBeInstanceOf(RangeError);
      expect(seen[0]).toHaveProperty('code', 'E_OUT_OF_RANGE');
    });

    test('a failed task leaves the pool working', async () => {
      await expect(pool().apply(throwTypeError, ['once'])).rejects.toThrow(TypeError);
      await expect(pool().apply(throwTypeError, ['twice'])).rejects.toThrow(TypeError);
      expect(await pool().map((x: number) => x + 1, [1, 2, 3])).toEqual([2, 3, 4]);
    });
  });
  describe('thrown values that throw when read', () => {
    const pool = useSharedPool(context, 1);
    /** Kinds whose message can be read: the rest of the error comes back, without what cannot be read. */
    const messageReadable = new Set(['name', 'stack', 'cause', 'property']);

    function expectDescribed(error: unknown, kind: string): void {
      expect(error).toBeInstanceOf(Error);
      if (messageReadable.has(kind)) {
        expect(error).toMatchObject({ name: 'RangeError', message: 'readable message', code: 'E_READABLE' });
      } else {
        expect((error as Error).message).toMatch(/could not be read/);
      }
    }

    const kinds = HOSTILE_KINDS.map((kind) => [kind]);

    /**
     * The worker that ran the hostile task runs the next one: it lived. On 'bullmq', whichever
     * mpool-worker takes a job runs it, so the same worker cannot be asked for; there, a worker
     * that died would have failed the call with WorkerCrashedError, which expectDescribed rules out.
     */
    async function expectWorkerLived(before: string): Promise<void> {
      const after = await pool().apply(workerId);
      if (context !== 'bullmq') expect(after).toBe(before);
    }

    test.each(kinds)('%s, thrown by a task: the call fails with an error that describes it, and the same worker runs the next task', async (kind) => {
      const before = await pool().apply(workerId);
      expectDescribed(await rejectionOf(pool().apply(throwHostile, [kind])), kind);
      await expectWorkerLived(before);
    });

    test('a Proxy whose traps throw, thrown by an inline function: the call fails with an error that describes it, and the same worker runs the next task', async () => {
      const before = await pool().apply(workerId);
      const thrower = (): never => {
        const trap = (): never => {
          throw new Error('trap');
        };
        throw new Proxy({}, { get: trap, getPrototypeOf: trap, ownKeys: trap, getOwnPropertyDescriptor: trap, has: trap });
      };
      expect((await rejectionOf(pool().apply(thrower))) as Error).toMatchObject({ message: expect.stringMatching(/could not be read/) });
      await expectWorkerLived(before);
    });

    test.each(kinds)('%s, thrown by an item of a map chunk: the map fails with an error that describes it, and the same worker runs the next task', async (kind) => {
      const before = await pool().apply(workerId);
      const items: [string, boolean][] = [[kind, false], [kind, false], [kind, true], [kind, false]];
      expectDescribed(await rejectionOf(pool().map(hostileItem, items, items.length)), kind);
      await expectWorkerLived(before);
    });
  });
}
