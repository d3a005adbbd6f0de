/** apply, applyAsync and the AsyncResult they return (CPython: test_apply, test_async*, callbacks). */
import { AsyncResult, MpoolError, ResultNotReadyError, TimeoutError, type ContextName } from '@mpool/pool';
import { echo, hold, mul, noop, sqr, throwTypeError } from './fixtures';
import { rejectionOf, useGates, useSharedPool } from './helpers';
import { report, runProgram } from '../robustness/support';

/** A bound on the callback-throws program (a Node start and a pool's), past which it hangs. */
const PROGRAM_LIMIT_MS = 20_000;

export function applyTests(context: ContextName): void {
  describe('apply and applyAsync', () => {
    const pool = useSharedPool(context);

    test('apply resolves with what the task returns', async () => {
      expect(await pool().apply(sqr, [5])).toBe(25);
    });

    test('apply passes every argument, in order', async () => {
      expect(await pool().apply(mul, [6, 7])).toBe(42);
      expect(await pool().apply(echo, ['a', 2, null, [3]])).toEqual(['a', 2, null, [3]]);
    });

    test('apply without arguments calls the task with none', async () => {
      expect(await pool().apply(echo)).toEqual([]);
      expect(await pool().apply(noop, [])).toBeUndefined();
    });

    test('apply rejects with the error the task threw', async () => {
      const error = await rejectionOf(pool().apply(throwTypeError, ['no good']));
      expect(error).toBeInstanceOf(TypeError);
      expect(error).toHaveProperty('message', 'no good');
    });

    test('applyAsync returns an AsyncResult that can be awaited', async () => {
      const result = pool().applyAsync(sqr, [7]);
      expect(result).toBeInstanceOf(AsyncResult);
      expect(await result).toBe(49);
      expect(await result.get()).toBe(49);
    });

    test('many applyAsync calls in a row each get their own result', async () => {
      const results = Array.from({ length: 100 }, (_, i) => pool().applyAsync(sqr, [i]));
      const values = await Promise.all(results.map((result) => result.get()));
      expect(values).toEqual(Array.from({ length: 100 }, (_, i) => i * i));
    });

    test('the callback runs with the value before wait() resolves', async () => {
      const seen: number[] = [];
      const errors: unknown[] = [];
      const result = pool().applyAsync(sqr, [8], { callback: (value) => seen.push(value), errorCallback: (error) => errors.push(error) });
      await result.wait();
      expect(seen).toEqual([64]);
      expect(errors).toEqual([]);
    });

    test('the errorCallback runs with the error before wait() resolves, and the callback does not', async () => {
      const seen: unknown[] = [];
      const errors: unknown[] = [];
      const result = pool().applyAsync(throwTypeError, ['called back'], { callback: (value) => seen.push(value), errorCallback: (error) => errors.push(error) });
      await result.wait();
      expect(seen).toEqual([]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(TypeError);
      expect(errors[0]).toHaveProperty('message', 'called back');
      expect(await rejectionOf(result.get())).toBe(errors[0]);
    });

    test('callbacks run once, however often the result is read', async () => {
      let calls = 0;
      const result = pool().applyAsync(sqr, [3], { callback: () => calls++ });
      await result;
      await result.get();
      await result.wait();
      expect(calls).toBe(1);
    });

    test('a callback that throws is an uncaught exception, as a throwing listener is in Node: unhandled, the program ends with it on stderr', async () => {
      const run = await runProgram('callback-throws.cjs', [context, 'crash'], { limitMs: PROGRAM_LIMIT_MS });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('Error: callback threw after 42');
      expect(run.stderr).toContain('callback-throws.cjs');
    });

    test('a callback or errorCallback that throws, its uncaught exception handled, leaves the result settled and the pool working', async () => {
      const run = await runProgram('callback-throws.cjs', [context, 'handle'], { limitMs: PROGRAM_LIMIT_MS });
      expect(report(run)).toEqual({
        caught: ['callback threw after 42', 'errorCallback threw after the task failed'],
        successful: [true, false],
        after: [49, [2, 3, 4]],
      });
      expect(run.stderr).toContain('uncaught: callback threw after 42');
      expect(run.code).toBe(0);
    });

    test('applyAsync refuses callbacks that are not functions', () => {
      expect(() => pool().applyAsync(sqr, [1], { callback: 'callback' as unknown as () => void })).toThrow(TypeError);
      expect(() => pool().applyAsync(sqr, [1], { errorCallback: {} as unknown as () => void })).toThrow(TypeError);
    });

    test('applyAsync refuses arguments that are not an array', () => {
      const notAnArray = 5 as unknown as [number];
      expect(() => pool().applyAsync(sqr, notAnArray)).toThrow(TypeError);
    });
  });

  describe('AsyncResult', () => {
    const pool = useSharedPool(context);
    const newGate = useGates();

    test('a finished result is ready, and successful when the task succeeded', async () => {
      const result = pool().applyAsync(sqr, [4]);
      await result.wait();
      expect(result.ready()).toBe(true);
      expect(result.successful()).toBe(true);
    });

    test('a failed result is ready and not successful', async () => {
      const result = pool().applyAsync(throwTypeError, ['failed']);
      await result.wait();
      expect(result.ready()).toBe(true);
      expect(result.successful()).toBe(false);
      await expect(result).rejects.toThrow('failed');
    });

    test('while the task runs the result is not ready and successful() throws ResultNotReadyError', async () => {
      const gate = newGate();
      const result = pool().applyAsync(hold, [gate.path, null, 'done']);
      expect(result.ready()).toBe(false);
      expect(() => result.successful()).toThrow(ResultNotReadyError);
      expect(() => result.successful()).toThrow(MpoolError);
      gate.open();
      expect(await result).toBe('done');
      expect(result.successful()).toBe(true);
    });

    test('wait(ms) on a blocked task resolves when the time is up, leaving the result pending', async () => {
      const gate = newGate();
      const result = pool().applyAsync(hold, [gate.path, null, 'late']);
      await expect(result.wait(30)).resolves.toBeUndefined();
      expect(result.ready()).toBe(false);
      gate.open();
      await result.wait();
      expect(result.ready()).toBe(true);
    });

    test('get(ms) rejects with TimeoutError when the task is not done in time; the task goes on and get() succeeds later', async () => {
      const gate = newGate();
      const result = pool().applyAsync(hold, [gate.path, null, 'eventually']);
      const error = await rejectionOf(result.get(30));
      expect(error).toBeInstanceOf(TimeoutError);
      expect(error).toBeInstanceOf(MpoolError);
      expect(error).toHaveProperty('name', 'TimeoutError');
      expect(result.ready()).toBe(false);
      gate.open();
      expect(await result.get()).toBe('eventually');
      expect(await result.get(0)).toBe('eventually');
    });

    test('wait() and get() on a finished result answer at once, even with a zero timeout', async () => {
      const result = pool().applyAsync(sqr, [9]);
      await result;
      await expect(result.wait(0)).resolves.toBeUndefined();
      await expect(result.get(0)).resolves.toBe(81);
    });

    test('wait() with a timeout never rejects, even when the task failed', async () => {
      const result = pool().applyAsync(throwTypeError, ['quiet']);
      await expect(result.wait(10_000)).resolves.toBeUndefined();
      expect(result.successful()).toBe(false);
    });

    test('a negative or non-numeric timeout is refused', async () => {
      const result = pool().applyAsync(sqr, [2]);
      expect(() => result.wait(-1)).toThrow(RangeError);
      expect(() => result.wait('10' as unknown as number)).toThrow(TypeError);
      // get() may refuse the timeout by throwing or by rejecting: either way it is a RangeError.
      expect(await rejectionOf(Promise.resolve().then(() => result.get(-1)))).toBeInstanceOf(RangeError);
      expect(await result).toBe(4);
    });

    test('then() takes a rejection handler, as a promise does', async () => {
      const handled = await pool().applyAsync(throwTypeError, ['handled']).then(
        () => 'fulfilled',
        (error: unknown) => (error as Error).message,
      );
      expect(handled).toBe('handled');
    });
  });
}
