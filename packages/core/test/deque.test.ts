import { Deque } from '../src/deque.js';

/** More than the initial capacity several times over, so that the ring grows more than once. */
const MANY = 100;

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

describe('Deque', () => {
  test('an empty deque has length 0 and shift, pop and peek give undefined', () => {
    const deque = new Deque<number>();
    expect(deque.length).toBe(0);
    expect(deque.shift()).toBeUndefined();
    expect(deque.pop()).toBeUndefined();
    expect(deque.peek()).toBeUndefined();
    expect(deque.drain()).toEqual([]);
  });

  test('push then shift is first in, first out across growth', () => {
    const deque = new Deque<number>();
    for (const i of range(MANY)) deque.push(i);
    expect(deque.length).toBe(MANY);
    expect(deque.peek()).toBe(0);
    const out: (number | undefined)[] = [];
    while (deque.length > 0) out.push(deque.shift());
    expect(out).toEqual(range(MANY));
  });

  test('push then pop is last in, first out across growth', () => {
    const deque = new Deque<number>();
    for (const i of range(MANY)) deque.push(i);
    const out: (number | undefined)[] = [];
    while (deque.length > 0) out.push(deque.pop());
    expect(out).toEqual(range(MANY).reverse());
  });

  test('unshift puts items at the front, also when the ring has to grow', () => {
    const deque = new Deque<number>();
    for (const i of range(MANY)) deque.unshift(i);
    expect(deque.peek()).toBe(MANY - 1);
    expect(deque.drain()).toEqual(range(MANY).reverse());
    expect(deque.length).toBe(0);
  });

  test('a ring whose head has wrapped keeps its order when it grows', () => {
    const deque = new Deque<number>();
    // Move the head past the middle of the 16-slot ring, then fill it so that it wraps and grows.
    for (const i of range(10)) deque.push(i);
    for (let i = 0; i < 10; i++) deque.shift();
    for (const i of range(40)) deque.push(i);
    expect(deque.length).toBe(40);
    expect(deque.drain()).toEqual(range(40));
  });

  test('mixed pushes and unshifts keep both ends right across growth', () => {
    const deque = new Deque<number>();
    const model: number[] = [];
    for (let i = 0; i < MANY; i++) {
      if (i % 3 === 0) {
        deque.unshift(i);
        model.unshift(i);
      } else {
        deque.push(i);
        model.push(i);
      }
    }
    expect(deque.pop()).toBe(model.pop());
    expect(deque.shift()).toBe(model.shift());
    expect(deque.length).toBe(model.length);
    expect(deque.drain()).toEqual(model);
  });

  test('used as a queue that is refilled many times, it matches an array', () => {
    const deque = new Deque<number>();
    const model: number[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < (round % 7) + 3; i++) {
        deque.push(next);
        model.push(next++);
      }
      for (let i = 0; i < (round % 5) + 1; i++) expect(deque.shift()).toBe(model.shift());
      if (round % 4 === 0) {
        const back = model.shift() as number;
        expect(deque.shift()).toBe(back);
        deque.unshift(back);
        model.unshift(back);
      }
      expect(deque.length).toBe(model.length);
      expect(deque.peek()).toBe(model[0]);
    }
    expect(deque.drain()).toEqual(model);
  });

  test('drain empties the deque and it can be reused', () => {
    const deque = new Deque<string>();
    deque.push('a');
    deque.push('b');
    expect(deque.drain()).toEqual(['a', 'b']);
    deque.unshift('c');
    expect(deque.length).toBe(1);
    expect(deque.pop()).toBe('c');
    expect(deque.length).toBe(0);
  });
});
