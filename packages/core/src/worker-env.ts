/** A worker's environment from the pool's `env` option: for the backends that start workers. */

/** Variables to set in a worker's environment, over the parent's; `undefined` leaves one out. */
export type EnvOverrides = Readonly<Record<string, string | undefined>>;

/**
 * The environment of a worker starting now: the parent's as it is, with `overrides` applied
 * (a variable given as `undefined` is left out).
 */
export function workerEnv(overrides: EnvOverrides): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}
