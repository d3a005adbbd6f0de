/**
 * What a pool accepts as a task: references to ESM and CommonJS exports (by absolute or relative
 * path, file URL or URL object), plain self-contained functions sent as source, async functions.
 */
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { task, type ContextName } from '@mpool/pool';
import { cube, fixture, half, negate, platformSep, triple } from './fixtures';
import { drain, range, rejectionOf, squares, useSharedPool } from './helpers';

export function taskTests(context: ContextName): void {
  describe('tasks', () => {
    const pool = useSharedPool(context);

    test('a plain arrow function runs in a worker', async () => {
      expect(await pool().apply((a: number, b: number) => a + b, [2, 3])).toBe(5);
    });

    test('a plain function expression and an async function run in a worker', async () => {
      expect(await pool().apply(function double(x: number) {
        return 2 * x;
      }, [21])).toBe(42);
      expect(await pool().apply(async function increment(x: number) {
        return x + 1;
      }, [41])).toBe(42);
      expect(await pool().apply(async (x: number) => {
        await new Promise((resolve) => setImmediate(resolve));
        return x + 1;
      }, [1])).toBe(2);
    });

    test('a plain function may require() modules inside its body', async () => {
      const joined = await pool().apply((a: string, b: string) => {
        const path = require('node:path') as typeof import('node:path');
        return path.posix.join(a, b);
      }, ['dir', 'file.txt']);
      expect(joined).toBe('dir/file.txt');
    });

    test('plain functions work with map, starmap and imap', async () => {
      expect(await pool().map((x: number) => x * x, range(20), 3)).toEqual(squares(20));
      expect(await pool().starmap((a: number, b: number) => a - b, [[5, 1], [9, 4]])).toEqual([4, 5]);
      expect((await drain(pool().imap((x: number) => x * x, range(15), 2))).values).toEqual(squares(15));
    });

    test('a plain function that uses a variable from outside its body fails with ReferenceError', async () => {
      const outside = 3;
      const error = await rejectionOf(pool().apply((x: number) => x * outside, [2]));
      expect(error).toBeInstanceOf(ReferenceError);
    });

    test('functions that cannot be sent as source are refused with TypeError before anything runs', () => {
      const holder = {
        method(x: number): number {
          return x;
        },
      };
      expect(() => pool().applyAsync(holder.method, [1])).toThrow(TypeError);
      expect(() => pool().applyAsync(Math.max, [1, 2])).toThrow(TypeError);
      expect(() => pool().applyAsync(((x: number) => x).bind(null) as (x: number) => number, [1])).toThrow(TypeError);
    });

    test('something that is not a task is refused with TypeError', async () => {
      const notATask = 42 as unknown as () => number;
      expect(() => pool().applyAsync(notATask)).toThrow(TypeError);
      expect(() => pool().imap({} as unknown as (x: number) => number, [1])).toThrow(TypeError);
      await expect(pool().map('sqr' as unknown as (x: number) => number, [1])).rejects.toThrow(TypeError);
    });

    test('an async exported function is awaited', async () => {
      expect(await pool().apply(half, [9])).toBe(4.5);
      expect(await pool().map(half, [2, 4, 6], 2)).toEqual([1, 2, 3]);
    });

    test('the default export of an ES module is the task when no export name is given', async () => {
      expect(await pool().apply(triple, [5])).toBe(15);
    });

    test('CommonJS modules work: named exports, exports Node cannot detect, module.exports as the function', async () => {
      expect(await pool().apply(cube, [3])).toBe(27);
      expect(await pool().apply(negate, [3])).toBe(-3);
      expect(typeof (await pool().apply(platformSep))).toBe('string');
      expect(await pool().apply(half, [3])).toBe(1.5);
    });

    test('a module path relative to the working directory resolves against it', async () => {
      const relativePath = relative(process.cwd(), fixture('values.mjs'));
      const viaRelative = task<(x: number) => number>(relativePath, 'sqr');
      const viaDotSlash = task<(x: number) => number>(`./${relativePath}`, 'sqr');
      expect(await pool().apply(viaRelative, [4])).toBe(16);
      expect(await pool().apply(viaDotSlash, [5])).toBe(25);
    });

    test('a module can be named by a file URL string or a URL object', async () => {
      const url = pathToFileURL(fixture('values.mjs'));
      expect(await pool().apply(task<(x: number) => number>(url, 'sqr'), [6])).toBe(36);
      expect(await pool().apply(task<(x: number) => number>(url.href, 'sqr'), [7])).toBe(49);
    });

    test('an export that does not exist fails the task with TypeError naming it', async () => {
      const missing = task<() => void>(fixture('values.mjs'), 'doesNotExist');
      const error = await rejectionOf(pool().apply(missing));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toContain('doesNotExist');
    });

    test('a module that does not exist fails the task with Node’s module-not-found error', async () => {
      const missing = task<() => void>(fixture('no-such-module.mjs'), 'anything');
      const error = await rejectionOf(pool().apply(missing));
      expect(error).toHaveProperty('code', 'ERR_MODULE_NOT_FOUND');
      expect(await pool().apply(cube, [2])).toBe(8);
    });

    test('task() refuses what cannot name a module or an export', () => {
      expect(() => task('')).toThrow(TypeError);
      expect(() => task(new URL('https://example.com/tasks.js'))).toThrow(TypeError);
      expect(() => task(fixture('values.mjs'), '')).toThrow(TypeError);
    });
  });
}
