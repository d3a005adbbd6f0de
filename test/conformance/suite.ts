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
import { schedulingTests } from './scheduling';
import { taskErrorTests } from './task-errors';
import { taskTests } from './tasks';

export function conformance(context: ContextName): void {
  describe(`conformance: the '${context}' context`, () => {
    applyTests(context);
    mapTests(context);
    imapTests(context);
    errorTests(context);
    dataTests(context);
    taskTests(context);
    taskErrorTests(context);
    schedulingTests(context);
    crashTests(context);
    initTests(context);
    lifecycleTests(context);
  });
}
