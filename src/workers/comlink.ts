import { createRequire } from 'node:module';
import type { MessagePort, Worker } from 'node:worker_threads';
import type * as ComlinkTypes from 'comlink';

// comlink ships UMD bundles without an `exports` map: under ESM, Node cannot see their named exports, so load
// them as CommonJS. This module is the one place that does it, on first use: most commands start no worker.
const require = createRequire(import.meta.url);
let loaded: { Comlink: typeof ComlinkTypes; nodeEndpoint: (nep: unknown) => ComlinkTypes.Endpoint } | undefined;
function comlink(): NonNullable<typeof loaded> {
  return (loaded ??= {
    Comlink: require('comlink') as typeof ComlinkTypes,
    nodeEndpoint: require('comlink/dist/umd/node-adapter.js') as (nep: unknown) => ComlinkTypes.Endpoint,
  });
}

export type Remote<T> = ComlinkTypes.Remote<T>;

/** Wraps a worker (main side) as a typed comlink proxy. */
export function wrapWorker<T>(worker: Worker): Remote<T> {
  const { Comlink, nodeEndpoint } = comlink();
  return Comlink.wrap<T>(nodeEndpoint(worker));
}

/** Exposes `api` from inside a worker thread to its parent. */
export function exposeToParent(api: object, port: MessagePort): void {
  const { Comlink, nodeEndpoint } = comlink();
  Comlink.expose(api, nodeEndpoint(port));
}
