/**
 * Worker plugins: a small, generic hook for what travels beside the tasks on a worker's own
 * connection. mpool's Manager is one (@mpool/manager): its shared objects are handles in a task's
 * arguments, which the plugin's worker half turns into proxies whose calls come back to its pool
 * half on a side channel of that worker's connection.
 *
 *   pool:   registerWorkerPlugin({ workerModule, open }) ── its module, in WorkerInit or a PLUGINS message ──▶ worker: require(workerModule).createWorkerPlugin(port)
 *   worker: plugin.present(args), beginTask(), endTask() around each task; port.send(id, data) ─[SIDE n id data]─▶ pool: open(channel) once per worker, then peer.deliver(id, data)
 *   pool:   channel.send(id, data) ─[SIDE n id data]─▶ worker: plugin.deliver(id, data)
 *
 * Plugins are registered for the whole process (handles may go to any pool), numbered in order
 * of registration: a frame names its plugin by that number. A worker hears of the plugins
 * registered when it starts in its WorkerInit, and of later ones before the next task it is sent.
 * See worker/plugins.ts for the worker's side.
 */

/** One worker's side channel, as a plugin's pool half uses it. */
export interface SideChannel {
  /**
   * Sends `data` to the plugin's worker half, under `id` (the plugin's to choose, e.g. an
   * object's). Throws when `data` cannot be copied; sends nothing once the worker is gone.
   */
  send(id: number, data: unknown): void;
}

/** A plugin's pool half, for one worker: what it hears on that worker's side channel. */
export interface SidePeer {
  /** A frame from the worker, under `id`. */
  deliver(id: number, data: unknown): void;
  /** The worker is gone, or being terminated: nothing more comes, and what it held may go. */
  close(): void;
}

/** A plugin, as the pool's process registers it. */
export interface WorkerPlugin {
  /**
   * The absolute path of the module that workers `require()` for the plugin's worker half; it
   * exports `createWorkerPlugin` (see worker/plugins.ts).
   */
  readonly workerModule: string;
  /** A worker sent its first frame for this plugin: the peer that hears that worker's frames. */
  open(channel: SideChannel): SidePeer;
  /**
   * Whether `value`, found in a task's arguments, is one of this plugin's handles: a backend
   * whose workers have no side channel back to this process (workers on other machines) refuses
   * a task that holds one. Default: none is.
   */
  isHandle?(value: unknown): boolean;
}

const plugins: WorkerPlugin[] = [];

/**
 * Registers a plugin for every pool of this process, once (registering it again does nothing).
 * Register it before its first handle can reach a task.
 */
export function registerWorkerPlugin(plugin: WorkerPlugin): void {
  if (!plugins.includes(plugin)) plugins.push(plugin);
}

/** How many plugins are registered: each worker is told of those it has not heard of. */
export function pluginCount(): number {
  return plugins.length;
}

/** The worker modules of the plugins from number `from` on. */
export function pluginModules(from: number): string[] {
  return plugins.slice(from).map((plugin) => plugin.workerModule);
}

/** Plugin number `index`, as a frame names it. */
export function pluginAt(index: number): WorkerPlugin | undefined {
  return plugins[index];
}

/** Whether `value` is a handle of some registered plugin's (see `WorkerPlugin.isHandle`). */
export function isPluginHandle(value: unknown): boolean {
  for (const plugin of plugins) if (plugin.isHandle?.(value) === true) return true;
  return false;
}
