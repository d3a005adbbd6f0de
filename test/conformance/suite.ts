/**
 * mpool's conformance suite: the behaviour every context must show, from CPython's own pool
 * tests (_TestPool, _TestPoolWorkerErrors, _TestPoolWorkerLifetime) and mpool's API contract.
 * Each context's test file runs it with one line: `conformance('thread')`.
 */
import type { ContextName } from '@mpool/pool';
import { applyTests } from './apply';
import { crashTests } from './crashes';
import { dataTests } from './data';
import { errorTests } from './errors';
import { imapTests } from './imap';
import { initTests } from './init';
import { lifecycleTests } from './lifecycle';
import { mapTests } from './map';
import { backpressureTests, eventTests, progressTests, statsTests, workerEventTests, workerOptionTests } from './observe';
import { schedulingTests } from './scheduling';
import { taskErrorTests } from './task-errors';
import { taskTests } from './tasks';
import { transferTests } from './transfer';

const PARTS = {
  apply: applyTests,
  map: mapTests,
  imap: imapTests,
  errors: errorTests,
  data: dataTests,
  transfer: transferTests,
  tasks: taskTests,
  taskErrors: taskErrorTests,
  scheduling: schedulingTests,
  crashes: crashTests,
  init: initTests,
  lifecycle: lifecycleTests,
  stats: statsTests,
  events: eventTests,
  workerEvents: workerEventTests,
  progress: progressTests,
  backpressure: backpressureTests,
  workerOptions: workerOptionTests,
};

/** A part of the suite, by what it tests. */
export type ConformancePart = keyof typeof PARTS;

/** Runs the suite, or the parts of it named in `only` (for a context where the others do not apply). */
export function conformance(context: ContextName, only?: readonly ConformancePart[]): void {
  describe(`conformance: the '${context}' context`, () => {
    for (const [part, tests] of Object.entries(PARTS)) {
      if (only === undefined || only.includes(part as ConformancePart)) tests(context);
    }
  });
}
