/** `Pool` with every context wired, and `getContext`. */
import { Pool as CorePool, type PoolOptions } from '@mpool/core';
import { backendFor, checkContextName, DEFAULT_CONTEXT, type ClusterPoolOptions, type ContextName } from './context.js';

/**
 * Options of `new Pool(options)`; `context` is one of mpool's context names. `connection`,
 * `queue`, `startTimeout` and `root` are the 'bullmq' context's (another context refuses them).
 */
export interface MpoolOptions extends PoolOptions, ClusterPoolOptions {
  /** Where the workers run. Default: `'auto'` (threads, moving to processes when needed). */
  context?: ContextName;
}

/**
 * A pool of workers: Python's `multiprocessing.Pool`.
 * @example
 * await using pool = new Pool({ processes: 4 });
 * await pool.map(sqr, [1, 2, 3]); // [1, 4, 9]
 */
export class Pool extends CorePool {
  /**
   * A pool whose workers start at once (up to one per CPU, and at least 16; the others as work
   * needs them), as Python's `Pool(processes, initializer, initargs, maxtasksperchild, context)`.
   * @param options the number of workers, or the options. Default: one worker per CPU
   *   (`os.availableParallelism()`), in the `'auto'` context.
   * @throws TypeError or RangeError for an option of the wrong type or out of range, saying what
   *   was expected and what came; `DataCloneError` for `initargs` that cannot be copied.
   * @example
   * const pool = new Pool({ processes: 2, context: 'spawn', maxtasksperchild: 100 });
   */
  constructor(options?: number | MpoolOptions) {
    const opts = typeof options === 'object' && options !== null ? options : {};
    const context = opts.context ?? DEFAULT_CONTEXT;
    const start = { limits: opts.resourceLimits, env: opts.env, execArgv: opts.execArgv };
    super(options, backendFor(context, start, context === 'bullmq' ? opts : undefined));
  }
}

/** A context: `getContext('thread').Pool(4)`, like `multiprocessing.get_context(…).Pool(4)`. */
export interface Context {
  /** The context's name, as given to `getContext()`. */
  readonly name: ContextName;
  /** A pool in this context; takes what `new Pool()` takes, less `context`. */
  Pool(options?: number | Omit<MpoolOptions, 'context'>): Pool;
}

/**
 * The context named `name`, as Python's `multiprocessing.get_context(method)`.
 * @param name one of {@link CONTEXT_NAMES}. Default: `'auto'`.
 * @throws TypeError for a name mpool does not know, at once rather than at the first pool.
 * @example const pool = getContext('thread').Pool(2);
 */
export function getContext(name: ContextName = DEFAULT_CONTEXT): Context {
  checkContextName(name); // fails now for an unknown name, not at the first Pool
  return Object.freeze({
    name,
    Pool: (options?: number | Omit<MpoolOptions, 'context'>): Pool => {
      const opts = typeof options === 'number' ? { processes: options } : { ...options };
      return new Pool({ ...opts, context: name });
    },
  });
}
