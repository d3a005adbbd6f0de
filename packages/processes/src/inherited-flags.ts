/**
 * The Node flags a 'fork' worker inherits from the pool's process: `process.execArgv`, less those
 * that tell Node to run something other than the script it is given. A program run by
 * `node -e '…'` has `['-e', '…']` among its flags: a child started with them runs that program
 * again, not the worker, and the program's pool in it forks again, without end. (Node's own
 * `fork()` drops `-e` only when it is handed `process.execArgv` itself, which a pool adding flags
 * of its own cannot do; and not `--eval=…`.)
 */

/** Flags that take the next argument as their value (unless written `--flag=value`). */
const WITH_VALUE = new Set(['-e', '--eval', '-p', '--print', '-pe', '-ep', '--watch-path']);
/** Flags that stand alone. */
const ALONE = new Set(['-i', '--interactive', '-c', '--check', '--test', '--watch', '--watch-preserve-output']);

/** `flags` without those that would make a forked worker run anything but its own script. */
export function forkableFlags(flags: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i] as string;
    const name = flag.startsWith('--') && flag.includes('=') ? flag.slice(0, flag.indexOf('=')) : flag;
    if (WITH_VALUE.has(name)) {
      if (name === flag) i++; // its value is the next argument
    } else if (!ALONE.has(name)) {
      kept.push(flag);
    }
  }
  return kept;
}
