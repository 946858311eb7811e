import { createRequire } from 'node:module';
import type { MessagePort, Worker } from 'node:worker_threads';
import type * as ComlinkTypes from 'comlink';

// comlink ships UMD bundles without an `exports` map: under ESM, Node cannot see their named exports, so load
// them as CommonJS. This module is the one place that does it.
const require = createRequire(import.meta.url);
const Comlink = require('comlink') as typeof ComlinkTypes;
const nodeEndpoint = require('comlink/dist/umd/node-adapter.js') as (nep: unknown) => ComlinkTypes.Endpoint;

export type Remote<T> = ComlinkTypes.Remote<T>;

/** Wraps a worker (main side) as a typed comlink proxy. */
export function wrapWorker<T>(worker: Worker): Remote<T> {
  return Comlink.wrap<T>(nodeEndpoint(worker));
}

/** Exposes `api` from inside a worker thread to its parent. */
export function exposeToParent(api: object, port: MessagePort): void {
  Comlink.expose(api, nodeEndpoint(port));
}

/** Marks a function passed to a worker so it is called back across threads, not copied. */
export const proxy = Comlink.proxy;
export const releaseProxy = Comlink.releaseProxy;
