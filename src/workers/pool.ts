import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { wrapWorker, type Remote } from './comlink.js';

/**
 * Where a worker module lives, from here: the compiled `.js` beside this file in dist/, or — when runts runs
 * from its TypeScript sources — the `.ts` file behind a loader that registers tsx in the worker thread.
 */
function workerEntry(name: string): { filename: string; workerData?: { module: string } } {
  const fromSource = import.meta.url.endsWith('.ts');
  const module = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, import.meta.url).href;
  return fromSource ? { filename: new URL('./ts-loader.mjs', import.meta.url).href, workerData: { module } } : { filename: module };
}

/**
 * runts' worker threads, started only when a command needs them: a piscina pool for one-shot tasks
 * (stop-waiting) and long-lived comlink-exposed actors (the OOM-score rebalancer of a root). `close()` ends them
 * all so a CLI command exits as soon as its work is done.
 */
export class WorkerPool {
  private piscina: Piscina | undefined;
  private readonly actors = new Set<Worker>();
  private readonly byKey = new Map<string, Remote<unknown>>();

  /** Runs the default export of worker module `name` with `input` on a pool thread. */
  run<I, O>(name: string, input: I): Promise<O> {
    if (!this.piscina) {
      // Loaded on first use: most commands never run a pool task, and piscina costs a cold start several ms.
      const { Piscina: PiscinaClass } = createRequire(import.meta.url)('piscina') as typeof import('piscina');
      this.piscina = new PiscinaClass({ ...workerEntry('tasks'), minThreads: 0, maxThreads: 2, idleTimeout: 1000 });
    }
    return this.piscina.run({ name, input });
  }

  /** The long-lived actor of module `name` for `key` (e.g. the OOM rebalancer of a root), started on first use. */
  actor<T>(name: string, key: string): Remote<T> {
    const k = `${name}\0${key}`;
    let remote = this.byKey.get(k) as Remote<T> | undefined;
    if (!remote) this.byKey.set(k, (remote = this.start<T>(name)));
    return remote;
  }

  /** Starts a long-lived worker actor and returns its comlink proxy. */
  start<T>(name: string): Remote<T> {
    const { filename, workerData } = workerEntry(name);
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    const worker = new Worker(new URL(filename), { workerData });
    // A resident host keeps them; a CLI command must not wait for them to exit on their own.
    worker.unref();
    this.actors.add(worker);
    worker.once('exit', () => this.actors.delete(worker));
    return wrapWorker<T>(worker);
  }

  async close(): Promise<void> {
    const piscina = this.piscina;
    this.piscina = undefined;
    this.byKey.clear();
    await Promise.all([piscina?.destroy(), ...[...this.actors].map((w) => w.terminate())]);
  }
}
