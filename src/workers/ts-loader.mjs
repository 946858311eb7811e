// Development only: when runts runs from its TypeScript sources (tsx), worker threads get no TypeScript loader
// of their own. This plain-JS entry registers tsx in the worker, then loads the real worker module named in
// workerData.module and re-exports its default (piscina's task function). Built runs (dist/) never use it.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const mod = await import(workerData.module);
export default mod.default;
