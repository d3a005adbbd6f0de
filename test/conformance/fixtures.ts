/** Typed references to the task modules under test/fixtures/, as users would write them. */
import { join } from 'node:path';
import { task } from '@mpool/pool';

export const FIXTURES = join(__dirname, '..', 'fixtures');
export const fixture = (name: string): string => join(FIXTURES, name);

const values = fixture('values.mjs');
export const sqr = task<(x: number) => number>(values, 'sqr');
export const mul = task<(a: number, b: number) => number>(values, 'mul');
export const echo = task<(...args: unknown[]) => unknown[]>(values, 'echo');
export const identity = task<<T>(value: T) => T>(values, 'identity');
export const noop = task<() => void>(values, 'noop');
export const asyncSqr = task<(x: number) => Promise<number>>(values, 'asyncSqr');
export const sqrOrThrow = task<(x: number) => number>(values, 'sqrOrThrow');
export const asyncSqrOrThrow = task<(x: number) => Promise<number>>(values, 'asyncSqrOrThrow');
export const returnFunction = task<(ignored?: unknown) => unknown>(values, 'returnFunction');
export const makeCloneables = task<() => Record<string, unknown>>(values, 'makeCloneables');
export const describeTypes = task<(value: Record<string, unknown>) => Record<string, string>>(values, 'describeTypes');
export const triple = task<(x: number) => number>(values);
export const describeArrival = task<(value: unknown) => string>(values, 'describeArrival');
export const floatsFrom = task<(from: number, n?: number) => Float64Array>(values, 'floatsFrom');

const errors = fixture('errors.mjs');
export const throwTypeError = task<(message: string) => never>(errors, 'throwTypeError');
export const throwWithProps = task<(message: string) => never>(errors, 'throwWithProps');
export const throwBuiltinSubclass = task<(status: number) => never>(errors, 'throwBuiltinSubclass');
export const throwCustom = task<(field: string) => never>(errors, 'throwCustom');
export const throwWithCause = task<(message: string) => never>(errors, 'throwWithCause');
export const throwWithValueCause = task<() => never>(errors, 'throwWithValueCause');
export const throwAggregate = task<() => never>(errors, 'throwAggregate');
export const throwValue = task<(value: unknown) => never>(errors, 'throwValue');
export const rejectTypeError = task<(message: string) => Promise<never>>(errors, 'rejectTypeError');
export const throwMpoolTimeout = task<(message: string) => Promise<never>>(errors, 'throwMpoolTimeout');

const workers = fixture('workers.mjs');
export const workerId = task<() => string>(workers, 'workerId');
export const hold = task<<T>(gatePath: string, startedPath: string | null, value: T) => T>(workers, 'hold');
export const exitWith = task<(code: number) => never>(workers, 'exitWith');
export const sqrOrExit = task<(x: number) => number>(workers, 'sqrOrExit');
export const answerThenExit = task<(x: number, code: number) => number>(workers, 'answerThenExit');
export const answerThenExitAtGate = task<(x: number, gatePath: string, idlePath: string, code: number) => number>(workers, 'answerThenExitAtGate');
export const crashInTimer = task<(message: string) => Promise<never>>(workers, 'crashInTimer');
export const init = task<(...args: unknown[]) => void>(workers, 'init');
export const asyncInit = task<(...args: unknown[]) => Promise<void>>(workers, 'asyncInit');
export const firstStartsAlone = task<(claimDir: string, gatePath: string) => void>(workers, 'firstStartsAlone');
export const failingInit = task<(message: string) => void>(workers, 'failingInit');
export const neverReady = task<(startedPath?: string) => Promise<never>>(workers, 'neverReady');
export const spinForever = task<() => never>(workers, 'spinForever');

export interface InitState {
  worker: string;
  record: { args: unknown[]; runs: number } | null;
}
export const initState = task<() => InitState>(workers, 'initState');

const hostileErrors = fixture('hostile-errors.cjs');
/** The kinds of thrown value whose reading throws (see fixtures/hostile-errors.cjs). */
export const HOSTILE_KINDS = (require(hostileErrors) as { HOSTILE_KINDS: readonly string[] }).HOSTILE_KINDS;
export const throwHostile = task<(kind: string) => never>(hostileErrors, 'throwHostile');
export const hostileItem = task<(item: [kind: string, fail: boolean]) => string>(hostileErrors, 'hostileItem');

const commonjs = fixture('commonjs.cjs');
export const cube = task<(x: number) => number>(commonjs, 'cube');
export const negate = task<(x: number) => number>(commonjs, 'negate');
export const platformSep = task<() => string>(commonjs, 'platformSep');
export const half = task<(x: number) => Promise<number>>(fixture('default-export.cjs'));
