/**
 * What the Manager tests share: the contexts they run on, managers that are always closed, a
 * bound on every wait of the parent's, and a count of the endpoints the parent keeps open for
 * workers' proxies.
 */
import { Connection } from '@mpool/manager';
import { Manager, type ContextName } from '@mpool/pool';

export const CONTEXTS: readonly ContextName[] = ['thread', 'fork', 'spawn', 'forkserver', 'auto'];

/**
 * How long the parent waits for what a task should send it (an item on a queue, a result) before
 * the test fails: far more than any of it takes, so that a lost message fails the test clearly
 * instead of leaving it hanging until jest's own timeout.
 */
export const WAIT_MS = 10_000;

/** A factory of managers for the tests of the enclosing describe block, each closed after its test. */
export function useManagers(): () => Manager {
  const made: Manager[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((manager) => manager.close()));
  });
  return () => {
    const manager = new Manager();
    made.push(manager);
    return manager;
  };
}

/** How often `allClosed()` looks at the count again. */
const ENDPOINT_POLL_MS = 5;

export interface EndpointWatch {
  /** Endpoints the parent holds open now, over every worker of every pool seen so far. */
  open(): number;
  /** Resolves once no endpoint is open; rejects after WAIT_MS. */
  allClosed(): Promise<void>;
}

/**
 * Counts the parent's open endpoints. mpool offers no way to see them, so this watches
 * @mpool/manager's `Connection` (one per worker that has called a shared object): it notes every
 * connection a frame is delivered to, and sums their `openEndpoints`. A worker's proxy is
 * released by a frame of its own, which the parent handles a few microtasks after it arrives, so
 * a count that must fall to zero is waited for rather than read at once.
 */
export function watchEndpoints(): EndpointWatch {
  const connections = new Set<Connection>();
  const deliver = Connection.prototype.deliver;
  beforeAll(() => {
    Connection.prototype.deliver = function noting(this: Connection, id: number, data: unknown): void {
      connections.add(this);
      deliver.call(this, id, data);
    };
  });
  afterAll(() => {
    Connection.prototype.deliver = deliver;
  });
  const open = (): number => [...connections].reduce((sum, connection) => sum + connection.openEndpoints, 0);
  return {
    open,
    async allClosed() {
      const giveUpAt = Date.now() + WAIT_MS;
      while (open() > 0) {
        if (Date.now() > giveUpAt) throw new Error(`The parent still holds ${open()} endpoints ${WAIT_MS} ms after the tasks ended`);
        await new Promise((resolve) => setTimeout(resolve, ENDPOINT_POLL_MS));
      }
    },
  };
}

/** The sum of some numbers. */
export const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
