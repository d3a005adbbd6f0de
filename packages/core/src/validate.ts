/** Argument checks that throw `TypeError`/`RangeError` saying what was expected and what came. */
import { describe } from './task.js';

/** Checks an optional timeout in milliseconds: a finite number ≥ 0. */
export function checkTimeout(value: unknown, name: string): asserts value is number | undefined {
  if (value === undefined) return;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`Expected \`${name}\` to be a number of milliseconds, got \`${describe(value)}\``);
  }
  if (value < 0 || !Number.isFinite(value)) {
    throw new RangeError(`Expected \`${name}\` to be a finite number of milliseconds ≥ 0, got \`${value}\``);
  }
}

/** Checks a positive integer option (`processes`, `chunksize`, `maxtasksperchild`). */
export function checkPositiveInteger(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number') {
    throw new TypeError(`Expected \`${name}\` to be an integer ≥ 1, got \`${describe(value)}\``);
  }
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`Expected \`${name}\` to be an integer ≥ 1, got \`${value}\``);
  }
}

export function checkFunction(value: unknown, name: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') {
    throw new TypeError(`Expected \`${name}\` to be a function, got \`${describe(value)}\``);
  }
}

export function checkArray(value: unknown, name: string): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) {
    throw new TypeError(`Expected \`${name}\` to be an array, got \`${describe(value)}\``);
  }
}

export function isIterable(value: unknown): value is Iterable<unknown> {
  return value !== null && value !== undefined && typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function';
}

export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value !== null && value !== undefined && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}
