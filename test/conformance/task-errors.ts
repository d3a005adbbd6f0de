/**
 * When a task cannot load or cannot run for a reason in the user's own code, the error says what
 * it was and what to do, and its stack shows the user's code, not mpool's.
 */
import { join, relative } from 'node:path';
import { InitializerError, task, type ContextName } from '@mpool/pool';
import { cube, fixture } from './fixtures';
import { rejectionOf, usePools, useSharedPool } from './helpers';

/** The lines of a stack that are frames (`    at …`). */
function framesOf(error: unknown): string[] {
  return String((error as Error).stack).split('\n').filter((line) => /^\s+at /.test(line));
}

/** Whether any frame of the stack is in mpool's own code. */
function hasMpoolFrames(error: unknown): boolean {
  return framesOf(error).some((line) => /[\\/](packages[\\/]\w+|@mpool[\\/]\w+)[\\/]dist[\\/]/.test(line));
}

export function taskErrorTests(context: ContextName): void {
  describe('errors that point at the user’s code', () => {
    const pool = useSharedPool(context);
    const pools = usePools(context);

    test('a task module that cannot be found names the path it resolved, and how relative paths resolve', async () => {
      const error = await rejectionOf(pool().apply(task<() => void>('./no-such-folder/tasks.mjs', 'run')));
      expect(error).toBeInstanceOf(Error);
      expect(error).toHaveProperty('code', 'ERR_MODULE_NOT_FOUND');
      const { message } = error as Error;
      expect(message).toContain(join(process.cwd(), 'no-such-folder', 'tasks.mjs'));
      expect(message).toContain('resolves against the working directory');
      expect(message).toContain('import.meta.url');
      expect(framesOf(error)).toEqual([]);
      expect(await pool().apply(cube, [2])).toBe(8);
    });

    test('a module that imports one that is missing keeps Node’s error, naming the importing module', async () => {
      const error = await rejectionOf(pool().apply(task<() => void>(fixture('imports-missing.mjs'), 'run')));
      expect(error).toHaveProperty('code', 'ERR_MODULE_NOT_FOUND');
      expect((error as Error).message).toContain('imports-missing.mjs');
    });

    test('a missing export lists what the module exports', async () => {
      const error = await rejectionOf(pool().apply(task<() => void>(fixture('commonjs.cjs'), 'cub')));
      expect(error).toBeInstanceOf(TypeError);
      const { message } = error as Error;
      expect(message).toContain('Export `cub` of');
      expect(message).toContain(fixture('commonjs.cjs'));
      expect(message).toMatch(/the module exports: .*\bcube\b.*/);
      expect(message).toMatch(/\bnegate\b/);
      expect(hasMpoolFrames(error)).toBe(false);
    });

    test('an inline function that uses a variable from outside says that it travels as source text, still a ReferenceError', async () => {
      const factor = 3;
      // One at a time: a rejection that nobody awaits yet would be reported as unhandled.
      for (const run of [() => pool().apply((x: number) => x * factor, [2]), () => pool().map((x: number) => x * factor, [1, 2, 3], 2)]) {
        const error = await rejectionOf(run());
        expect(error).toBeInstanceOf(ReferenceError);
        const { message, cause } = error as Error;
        expect(message).toContain('factor is not defined');
        expect(message).toContain('source text');
        expect(message).toContain('closures');
        expect(message).toContain('task()');
        expect(cause).toBeInstanceOf(ReferenceError);
        expect(cause).toHaveProperty('message', 'factor is not defined');
        expect(framesOf(error).length).toBeGreaterThan(0);
        expect(hasMpoolFrames(error)).toBe(false);
      }
    });

    test('a ReferenceError from a task module is left as it is', async () => {
      const error = await rejectionOf(pool().apply(task<() => number>(fixture('errors.mjs'), 'useUndeclared')));
      expect(error).toBeInstanceOf(ReferenceError);
      expect(error).toHaveProperty('message', 'undeclaredAnywhere is not defined');
    });

    test('an inline initializer that uses a variable from outside says so too', async () => {
      const greeting = 'hello';
      const failing = pools({ processes: 1, initializer: () => void greeting });
      const error = await rejectionOf(failing.apply(cube, [2]));
      expect(error).toBeInstanceOf(InitializerError);
      const { cause } = error as Error;
      expect(cause).toBeInstanceOf(ReferenceError);
      expect((cause as Error).message).toContain('greeting is not defined');
      expect((cause as Error).message).toContain('closures');
    });

    test('a TypeScript task module in a program that runs without a loader fails with an error that names the fix', async () => {
      const tsModule = fixture(join('typescript', 'tasks.mts'));
      const error = await rejectionOf(pool().apply(task<(x: number) => number>(relative(process.cwd(), tsModule), 'sqr'), [3]));
      expect(error).toBeInstanceOf(TypeError);
      expect(error).toHaveProperty('code', 'ERR_UNKNOWN_FILE_EXTENSION');
      const { message } = error as Error;
      expect(message).toContain(tsModule);
      expect(message).toContain('tsx main.ts');
      expect(message).toContain('--import tsx');
      expect(message).toContain('compile');
      expect(framesOf(error)).toEqual([]);
    });
  });
}
