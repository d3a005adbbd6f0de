/**
 * Task functions written in TypeScript. Compiled, the workers run `dist/tasks.js`; under tsx they
 * load this file itself, as the program does.
 */
import { threadId } from 'node:worker_threads';

/** Steps the Collatz sequence takes from `n` down to 1. */
export function collatzSteps(n: number): number {
  let steps = 0;
  for (let x = n; x !== 1; steps++) x = x % 2 === 0 ? x / 2 : 3 * x + 1;
  return steps;
}

export interface WordCount {
  word: string;
  count: number;
}

/** The `k` most frequent words of `text`, most frequent first (ties in alphabetical order). */
export function topWords(text: string, k: number): WordCount[] {
  const counts = new Map<string, number>();
  for (const word of text.toLowerCase().match(/[a-z']+/g) ?? []) counts.set(word, (counts.get(word) ?? 0) + 1);
  return [...counts]
    .map(([word, count]) => ({ word, count }))
    .sort((a, b) => b.count - a.count || a.word.localeCompare(b.word))
    .slice(0, k);
}

/** Which worker this is: a thread has its own threadId in a shared pid, a process its own pid. */
export function workerId(): string {
  return `${process.pid}:${threadId}`;
}
