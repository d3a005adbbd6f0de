/**
 * A pool's life: running → closed → terminated; what each call does in each state (CPython:
 * test_make_pool, test_terminate, test_context, test_enter, test_empty_iterable's close/join).
 */
import { execFile } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getContext, Pool, PoolStateError, type ContextName } from '@mpool/pool';
import { fixture, hold, sqr } from './fixtures';
import { contextInUse, drain, fileWritten, range, rejectionOf, squares, useGates, usePools, WORKERS } from './helpers';

/** Runs a fixture program with Node; a program that does not end by itself fails the test. */
function runProgram(name: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // This test file's environment (jest's own copy of it), which a context may read (MPOOL_REDIS_URL).
    execFile(process.execPath, [fixture(name), ...args], { timeout: 20_000, env: process.env }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Every way to submit work, each returning a promise of the outcome (a synchronous throw becomes a rejection). */
function submissions(pool: Pool): Record<string, () => Promise<unknown>> {
  const attempt = (submit: () => PromiseLike<unknown>) => async (): Promise<unknown> => submit();
  return {
    apply: attempt(() => pool.apply(sqr, [1])),
    applyAsync: attempt(() => pool.applyAsync(sqr, [1])),
    map: attempt(() => pool.map(sqr, [1, 2])),
    mapAsync: attempt(() => pool.mapAsync(sqr, [1, 2])),
    starmap: attempt(() => pool.starmap(sqr, [[1]])),
    starmapAsync: attempt(() => pool.starmapAsync(sqr, [[1]])),
    imap: attempt(() => pool.imap(sqr, [1]).next()),
    imapUnordered: attempt(() => pool.imapUnordered(sqr, [1]).next()),
  };
}

export function lifecycleTests(context: ContextName): void {
  describe('pool lifecycle', () => {
    const newPool = usePools(context);
    const newGate = useGates();

    test('a pool reports its size, its context and that it is running', async () => {
      const pool = newPool(3);
      expect(pool.processes).toBe(3);
      expect(pool.context).toBe(contextInUse(context));
      expect(pool.state).toBe('running');
      expect(await pool.map(sqr, range(9))).toEqual(squares(9));
    });

    test('without a size, a pool has one worker per CPU', () => {
      const pool = newPool({});
      expect(pool.processes).toBe(availableParallelism());
    });

    test('getContext(name).Pool() makes a pool in that context', async () => {
      const ctx = getContext(context);
      expect(ctx.name).toBe(context);
      const pool = ctx.Pool(WORKERS);
      try {
        expect(pool.processes).toBe(WORKERS);
        expect(pool.context).toBe(contextInUse(context));
        expect(await pool.apply(sqr, [3])).toBe(9);
      } finally {
        await pool.terminate();
      }
      const sized = ctx.Pool({ processes: 1, maxtasksperchild: 5 });
      try {
        expect(sized.processes).toBe(1);
        expect(sized.context).toBe(contextInUse(context));
      } finally {
        await sized.terminate();
      }
    });

    test.each([0, -1, 1.5, Infinity, NaN])('a pool of %p workers is refused with RangeError', (processes) => {
      expect(() => new Pool({ processes, context })).toThrow(RangeError);
      expect(() => getContext(context).Pool(processes)).toThrow(RangeError);
    });

    test.each([1025, 1e6])("a pool of %p workers, above mpool's limit, is refused with a RangeError that says the limit", (processes) => {
      const refusal = new RangeError(`Expected \`processes\` to be an integer from 1 to 1024 (mpool's limit), got \`${processes}\``);
      expect(() => new Pool({ processes, context })).toThrow(refusal);
      expect(() => getContext(context).Pool(processes)).toThrow(refusal);
    });

    test('a size that is not a number is refused with TypeError', () => {
      expect(() => new Pool({ processes: '2' as unknown as number, context })).toThrow(TypeError);
    });

    test('unknown options and options of the wrong type are refused with TypeError', () => {
      const unknownOption = { processes: 1, context, maxtasks: 3 } as unknown as ConstructorParameters<typeof Pool>[0];
      expect(() => new Pool(unknownOption)).toThrow(TypeError);
      expect(() => new Pool({ processes: 1, context, initargs: 'a' as unknown as [] })).toThrow(TypeError);
      expect(() => new Pool({ processes: 1, context, initializer: 42 as unknown as () => void })).toThrow(TypeError);
      expect(() => new Pool({ processes: 1, context: 'threads' as ContextName })).toThrow(TypeError);
    });

    test('close() lets pending work finish, then resolves; join() resolves too', async () => {
      const pool = newPool();
      const gate = newGate();
      const held = pool.applyAsync(hold, [gate.path, gate.started('held'), 'finished']);
      const queued = range(6).map((i) => pool.applyAsync(sqr, [i]));
      await fileWritten(gate.started('held'));
      const closing = pool.close();
      expect(pool.state).toBe('closed');
      expect(held.ready()).toBe(false);
      gate.open();
      await closing;
      await pool.join();
      expect(await held.get(0)).toBe('finished');
      expect(await Promise.all(queued.map((result) => result.get(0)))).toEqual(squares(6));
    });

    test('close() on an idle pool resolves, and close() again is harmless', async () => {
      const pool = newPool();
      expect(await pool.map(sqr, range(4))).toEqual(squares(4));
      await pool.close();
      await pool.close();
      await pool.join();
      expect(pool.state).toBe('closed');
    });

    test('join() while the pool runs rejects with PoolStateError, and the pool runs on', async () => {
      const pool = newPool();
      const error = await rejectionOf(pool.join());
      expect(error).toBeInstanceOf(PoolStateError);
      expect(error).toHaveProperty('name', 'PoolStateError');
      expect(pool.state).toBe('running');
      expect(await pool.apply(sqr, [4])).toBe(16);
    });

    test('terminate() rejects every pending result, running or queued, with PoolStateError', async () => {
      const pool = newPool();
      const gate = newGate();
      const running = range(WORKERS).map((i) => pool.applyAsync(hold, [gate.path, gate.started(i), i]));
      await Promise.all(range(WORKERS).map((i) => fileWritten(gate.started(i))));
      const queued = range(3).map((i) => pool.applyAsync(sqr, [i]));
      const mapped = pool.mapAsync(sqr, range(10));
      const applied = rejectionOf(pool.apply(sqr, [5]));
      await pool.terminate();
      expect(pool.state).toBe('terminated');
      for (const result of [...running, ...queued, mapped]) {
        expect(result.ready()).toBe(true);
        await expect(result.get()).rejects.toBeInstanceOf(PoolStateError);
      }
      expect(await applied).toBeInstanceOf(PoolStateError);
      await pool.join();
    });

    test('terminate() with a long map still in its queue ends it, and join() resolves', async () => {
      const pool = newPool();
      const gate = newGate();
      const items = range(10_000).map((i): [string, null, number] => [gate.path, null, i]);
      const result = pool.starmapAsync(hold, items, 1);
      const terminating = pool.terminate();
      await pool.join();
      await terminating;
      await expect(result.get()).rejects.toBeInstanceOf(PoolStateError);
    });

    test('terminate() ends an imap that is waiting for results with PoolStateError', async () => {
      const pool = newPool();
      const gate = newGate();
      const iterator = pool.imap((path: string) => {
        const { existsSync } = require('node:fs') as typeof import('node:fs');
        const pause = new Int32Array(new SharedArrayBuffer(4));
        while (!existsSync(path)) Atomics.wait(pause, 0, 0, 5);
        return path;
      }, [gate.path, gate.path, gate.path]);
      const next = rejectionOf(iterator.next());
      await pool.terminate();
      expect(await next).toBeInstanceOf(PoolStateError);
    });

    test('terminate() is idempotent, also after close()', async () => {
      const pool = newPool();
      await pool.close();
      await pool.terminate();
      await pool.terminate();
      expect(pool.state).toBe('terminated');
      await pool.join();
    });

    test.each(['close', 'terminate'] as const)('after %s(), every way to submit work is refused with PoolStateError', async (ending) => {
      const pool = newPool();
      await pool[ending]();
      for (const [name, submit] of Object.entries(submissions(pool))) {
        const error = await rejectionOf(submit());
        expect([name, error]).toEqual([name, expect.any(PoolStateError)]);
      }
    });

    test('after close(), applyAsync, mapAsync and imap throw PoolStateError synchronously', async () => {
      const pool = newPool();
      const closing = pool.close();
      expect(() => pool.applyAsync(sqr, [1])).toThrow(PoolStateError);
      expect(() => pool.mapAsync(sqr, [1])).toThrow(PoolStateError);
      expect(() => pool.starmapAsync(sqr, [[1]])).toThrow(PoolStateError);
      expect(() => pool.imap(sqr, [1])).toThrow(PoolStateError);
      expect(() => pool.imapUnordered(sqr, [1])).toThrow(PoolStateError);
      await closing;
    });

    test('await using terminates the pool at the end of the block, failing what was pending', async () => {
      const gate = newGate();
      let escaped: Pool | undefined;
      let pending: ReturnType<Pool['applyAsync']> | undefined;
      {
        await using pool = newPool();
        escaped = pool;
        expect(await pool.apply(sqr, [6])).toBe(36);
        pending = pool.applyAsync(hold, [gate.path, null, 'never']);
      }
      expect(escaped.state).toBe('terminated');
      await escaped.join();
      await expect(pending.get()).rejects.toBeInstanceOf(PoolStateError);
    });

    test('Symbol.asyncDispose terminates the pool', async () => {
      const pool = newPool();
      await pool[Symbol.asyncDispose]();
      expect(pool.state).toBe('terminated');
      expect(() => pool.applyAsync(sqr, [1])).toThrow(PoolStateError);
    });

    test('a program that never closes its pool still exits once the work is done', async () => {
      const { code, stdout, stderr } = await runProgram('idle-exit.cjs', [context]);
      expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: 'result 36\n', stderr: '' });
    });

    test('failed results nobody asks for, and results lost to terminate(), cause no unhandled rejection', async () => {
      const neverOpened = join(tmpdir(), `mpool-never-opened-${process.pid}-${Date.now()}`);
      const { code, stdout, stderr } = await runProgram('quiet-failures.cjs', [context, neverOpened]);
      expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: 'done false false false false\n', stderr: '' });
    });
  });
}
