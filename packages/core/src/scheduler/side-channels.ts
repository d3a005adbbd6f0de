/**
 * The pool's end of one worker's side channels (plugins.ts): each plugin's peer for that worker,
 * opened by the worker's first frame for it, and closed when the worker goes.
 */
import type { WorkerHandle } from '../executor.js';
import { isCloneError } from '../exit-info.js';
import { pluginAt, type SideChannel, type SidePeer } from '../plugins.js';
import { MessageKind } from '../wire.js';

export class SideChannels {
  readonly #handle: WorkerHandle;
  /** Peers by plugin number. */
  readonly #peers = new Map<number, SidePeer>();
  #closed = false;

  constructor(handle: WorkerHandle) {
    this.#handle = handle;
  }

  /** A frame from the worker for plugin number `plugin`, under `id`. */
  deliver(plugin: number, id: number, data: unknown): void {
    if (this.#closed) return;
    let peer = this.#peers.get(plugin);
    if (peer === undefined) {
      const opened = pluginAt(plugin)?.open(this.#channel(plugin));
      if (opened === undefined) return; // a number no plugin has: nothing to hear it
      peer = opened;
      this.#peers.set(plugin, peer);
    }
    peer.deliver(id, data);
  }

  /** The worker is gone, or being terminated: its later frames are dropped, and its peers closed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const peer of this.#peers.values()) peer.close();
    this.#peers.clear();
  }

  #channel(plugin: number): SideChannel {
    return {
      send: (id, data) => {
        try {
          this.#handle.send([MessageKind.Side, plugin, id, data]);
        } catch (error) {
          // A value that cannot be copied is the plugin's to report; a worker that is gone has
          // no one to hear it.
          if (isCloneError(error)) throw error;
        }
      },
    };
  }
}
