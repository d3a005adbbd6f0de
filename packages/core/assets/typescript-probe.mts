// Loaded by a worker thread to learn whether it can already load TypeScript as its program does
// (see src/worker/typescript.ts). An enum, because only a loader that transforms TypeScript, as
// tsx does, can load it: Node's own type stripping cannot.
export enum Probe {
  Loaded = 1,
}
