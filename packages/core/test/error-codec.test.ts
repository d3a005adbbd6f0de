/**
 * The error codec on thrown values whose own code throws when read (getters, a Proxy's traps):
 * encoding never throws, what it makes can be sent, and the rebuilt error says what was thrown
 * as far as it could be read.
 */
import { join } from 'node:path';
import { decodeThrown, encodeThrown } from '../src/error-codec.js';

interface HostileFixtures {
  readonly HOSTILE_KINDS: readonly string[];
  hostile(kind: string): unknown;
}
// The same values the conformance suite throws from workers.
const { HOSTILE_KINDS, hostile } = require(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'hostile-errors.cjs')) as HostileFixtures;

/** Encodes `thrown` as a worker does, sends it (a structured clone), and rebuilds it. */
function roundTrip(thrown: unknown): unknown {
  return decodeThrown(structuredClone(encodeThrown(thrown)));
}

describe('thrown values that throw when read', () => {
  test.each(HOSTILE_KINDS.map((kind) => [kind]))('%s: encoding does not throw, and the result can be sent', (kind) => {
    const wire = encodeThrown(hostile(kind));
    expect(() => structuredClone(wire)).not.toThrow();
  });

  test('an error whose message cannot be read keeps its class, name and properties, and its message says why', () => {
    const error = roundTrip(hostile('message'));
    expect(error).toBeInstanceOf(RangeError);
    expect(error).toMatchObject({ name: 'RangeError', code: 'E_READABLE' });
    expect((error as Error).message).toMatch(/message .*could not be read.*getter message/);
  });

  test.each([['name'], ['stack'], ['cause'], ['property']])('an error whose %s cannot be read comes back without what could not be read, the rest kept', (kind) => {
    const error = roundTrip(hostile(kind));
    expect(error).toBeInstanceOf(RangeError);
    expect(error).toMatchObject({ name: 'RangeError', message: 'readable message', code: 'E_READABLE' });
    expect(error).not.toHaveProperty('details');
    expect((error as Error).cause).toBeUndefined();
  });

  test.each([
    ['proxy', /could not be read: a Proxy \(reading it threw Error: getter proxy\)/],
    ['revoked proxy', /could not be read: a Proxy \(reading it threw TypeError: .*revoked/],
    ['toString', /could not be read: an object \(Object\) \(reading it threw Error: getter toString\)/],
  ])('a %s that nothing can be read of becomes an Error that says what it was', (kind, words) => {
    const error = roundTrip(hostile(kind));
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(words);
  });

  test('a Proxy of an error comes back as its class, with a message that says it could not be read', () => {
    const error = roundTrip(hostile('error proxy'));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(/could not be read.*getter error proxy/);
  });

  test('a getter whose own error is hostile is described all the same', () => {
    const error = new Error('outer');
    Object.defineProperty(error, 'message', {
      get() {
        throw hostile('proxy');
      },
    });
    expect((roundTrip(error) as Error).message).toMatch(/could not be read: reading it threw a value that could not be read either/);
  });
});

test('a property named __proto__ comes back as a property, not as the error’s prototype', () => {
  const error = new TypeError('odd keys');
  Object.defineProperty(error, '__proto__', { value: { planted: true }, enumerable: true, configurable: true, writable: true });
  const back = roundTrip(error);
  expect(back).toBeInstanceOf(TypeError);
  expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toEqual({ planted: true });
});

describe("mpool's own errors", () => {
  // The classes of this copy of mpool, which decodeThrown rebuilds.
  const { TimeoutError, WorkerCrashedError } = require('../src/errors.js') as typeof import('../src/errors.js');

  /** The classes of another copy of mpool: what a task module's own install, or the process worker's bundle, makes. */
  function anotherCopy(): typeof import('../src/errors.js') {
    let copy: typeof import('../src/errors.js') | undefined;
    jest.isolateModules(() => {
      copy = require('../src/errors.js') as typeof import('../src/errors.js');
    });
    return copy!;
  }

  test('an error made by another copy of mpool comes back as the class of this one', () => {
    const other = anotherCopy();
    expect(other.TimeoutError).not.toBe(TimeoutError);
    const error = roundTrip(new other.TimeoutError('inner pool timed out'));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ name: 'TimeoutError', message: 'inner pool timed out' });
    const crash = roundTrip(new other.WorkerCrashedError('gone', { code: 3, signal: null }));
    expect(crash).toBeInstanceOf(WorkerCrashedError);
    expect(crash).toMatchObject({ exitCode: 3, signal: null });
  });

  test("a user's class called TimeoutError, and a subclass of mpool's, stay what they are", () => {
    class LookAlike extends Error {}
    Object.defineProperty(LookAlike.prototype, 'name', { value: 'TimeoutError' });
    class Slower extends TimeoutError {}
    for (const thrown of [new LookAlike('mine'), new Slower('mine too')]) {
      const error = roundTrip(thrown);
      expect(error).not.toBeInstanceOf(TimeoutError);
      expect((error as Error).message).toMatch(/^mine/);
    }
  });
});
