/**
 * The benchmarks that need runts embedded in a warm process (items 3, 4 with the resident host, and 6). bench/run.ts
 * starts this in a child process of its own (a clean heap for item 6, `--expose-gc`) and reads the JSON result it
 * writes to `out` (not stdout: the containers it starts inherit its stdio):
 *
 *   node --expose-gc --import tsx bench/embedded-driver.ts '<json DriverRequest>'
 *
 * It loads runts from the benchmark's private install (`dist`), never from the repo's src/.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeBundle, type BundleFactory } from './lib/bundles.js';
import type { RuntimeName } from './lib/report.js';
import { argvOf, type RuntimeSpec } from './lib/runtimes.js';
import { elapsedMs } from './lib/stats.js';

export interface DriverRequest {
  mode: 'api' | 'stop' | 'heap';
  /** The install's dist/ directory. */
  dist: string;
  /** runts' state root for this benchmark (its own, empty). */
  root: string;
  bundles: BundleFactory;
  n: number;
  /** api: the CLI runtimes whose `run` alternates with the API cycle. */
  others?: RuntimeSpec[];
  /** api, stop: untimed cycles first (V8 optimises a function only after it ran many times). */
  warmup?: number;
  /** stop: after the single stops, `count` bursts of `size` containers killed at once. */
  bursts?: { size: number; count: number };
  /** Where the DriverResult JSON goes. */
  out: string;
}

export interface DriverResult {
  samples: Partial<Record<RuntimeName, number[]>>;
  /** heap: extra figures. */
  heapPerContainerKB?: number;
  rssPerContainerKB?: number;
  createAllMs?: number;
  deleteAllMs?: number;
  deleteSamples?: number[];
  /** stop: SIGKILL of a burst's inits at once → all of them `stopped` in the store, one sample per burst. */
  burstSamples?: number[];
}

interface RuntimeApi {
  create(id: string, o: { bundle: string }): Promise<{ pid: number }>;
  start(id: string): Promise<unknown>;
  run(id: string, o: { bundle: string; detach: boolean }): Promise<number>;
  state(id: string): Promise<{ pid: number; status: string }>;
  delete(id: string, o: { force: boolean }): Promise<void>;
  serve(o: object): Promise<{ close(): Promise<void> }>;
  close(): Promise<void>;
}

const req = JSON.parse(process.argv[2]) as DriverRequest;
const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(path.join(req.dist, rel)).href)) as T;
const { Runtime } = await load<{ Runtime: { open(o: { root: string }): Promise<RuntimeApi> } }>('index.js');
const rt = await Runtime.open({ root: req.root });
const now = () => process.hrtime.bigint();

/**
 * The other runtimes' commands of item 3, run by bench/lib/spawn-helper.cjs (a process of its own, so that this warm
 * process is never forked: see that file). Each call resolves with the command's status and its wall time as timed
 * there.
 */
function spawnHelper(): { run(exe: string, args: string[]): Promise<{ status: number | null; ms: number }>; close(): void } {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'lib', 'spawn-helper.cjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const replies = createInterface({ input: child.stdout! });
  const waiting: ((reply: { status: number | null; ms: number }) => void)[] = [];
  replies.on('line', (line) => waiting.shift()?.(JSON.parse(line) as { status: number | null; ms: number }));
  // A helper that died answers nothing more: what it was asked fails (status null) instead of hanging the run.
  child.on('exit', () => waiting.splice(0).forEach((reply) => reply({ status: null, ms: NaN })));
  return {
    run(exe, args) {
      return new Promise((resolve) => {
        waiting.push(resolve);
        child.stdin!.write(`${JSON.stringify([exe, ...args])}\n`);
      });
    },
    close() {
      child.stdin!.end();
    },
  };
}

/**
 * Item 3: create → start → wait for the exit (this process is the init's parent) → delete, through the API. The
 * process is made warm first — `req.warmup` cycles on their own, as an agent that embeds runts has run them many
 * times over: V8 compiles a function to optimised code only after many runs, and a cycle timed after a single
 * warm-up mostly runs interpreted or baseline code (≈ 1 ms more per cycle here after 10 warm-up cycles than after
 * 500).
 */
async function api(): Promise<DriverResult> {
  const { nativePort } = await load<{ nativePort(): { waitPidAsync(pid: number): Promise<unknown> } }>('native/index.js');
  const sys = nativePort();
  const samples: DriverResult['samples'] = {};
  const cycle = async (id: string): Promise<number> => {
    const bundle = writeBundle(req.bundles, 'runts', id, ['/bin/true']);
    const t0 = now();
    const { pid } = await rt.create(id, { bundle });
    await rt.start(id);
    await sys.waitPidAsync(pid).catch(() => undefined);
    await rt.delete(id, { force: true });
    return elapsedMs(t0, now());
  };
  for (let i = 0; i < (req.warmup ?? 1); i++) await cycle(`api-warmup-${i}`);
  const helper = spawnHelper();
  try {
    for (let i = -1; i < req.n; i++) {
      // The first round only warms the other runtimes' commands (and the helper).
      const ms = await cycle(i < 0 ? 'api-first' : `api-${i}`);
      if (i >= 0) (samples.runts ??= []).push(ms);
      for (const other of req.others ?? []) {
        const oid = `apirun-${i + 1}`;
        const args = argvOf(other, ['run', '--bundle', writeBundle(req.bundles, other.name, oid, ['/bin/true']), oid]);
        const r = await helper.run(other.exe, args);
        if (r.status !== 0) throw new Error(`${other.name} run failed (status ${r.status})`);
        if (i >= 0) (samples[other.name] ??= []).push(r.ms);
      }
    }
  } finally {
    helper.close();
  }
  return { samples };
}

// The observer of item 4: a thread with its own handle on the store that kills the inits and then reads their
// records every 20 µs until all say stopped — what `runts state` in any other process would read. On a thread of
// its own so that neither its polling nor its clock share the resident host's event loop.
const STOP_OBSERVER = `
const { parentPort, workerData } = require('node:worker_threads');
const pause = new Int32Array(new SharedArrayBuffer(4));
Promise.all([import(workerData.store), import(workerData.native)]).then(([{ Store }, { nativePort }]) => {
  const store = Store.open(workerData.root, nativePort());
  const top = (id) => { const v = store.get(id)?.snapshot.value; return typeof v === 'string' ? v : Object.keys(v ?? {})[0]; };
  parentPort.on('message', ({ ids, pids }) => {
    const t0 = process.hrtime.bigint();
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    let ms;
    while (ids.some((id) => top(id) !== 'stopped')) {
      ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (ms > 5000) break;
      Atomics.wait(pause, 0, 0, 0.02);
    }
    parentPort.postMessage(Number(process.hrtime.bigint() - t0) / 1e6);
  });
  parentPort.postMessage('ready');
});
`;

/**
 * Item 4 with the resident host: this process serves as the supervisor (what `runts supervise` runs) and starts a
 * `sleep` container; the observer thread SIGKILLs its init and times how long until the store says `stopped`. Then
 * the same for bursts of containers killed at once (until the last of them is `stopped`).
 */
async function stop(): Promise<DriverResult> {
  const resident = await rt.serve({});
  const observer = new Worker(STOP_OBSERVER, { eval: true, workerData: { store: pathToFileURL(path.join(req.dist, 'persistence/store.js')).href, native: pathToFileURL(path.join(req.dist, 'native/index.js')).href, root: req.root } });
  let waiting: ((v: unknown) => void) | undefined;
  let failed: unknown;
  observer.on('message', (v) => waiting?.(v));
  observer.on('error', (e) => (failed = e));
  const next = () => (failed ? Promise.reject(failed) : new Promise<unknown>((resolve) => (waiting = resolve)));
  const samples: DriverResult['samples'] = {};
  let burstSamples: number[] | undefined;
  try {
    await next(); // ready
    // A resident host has recorded many exits before: the untimed stops make its exit path as warm as that.
    for (let i = -(req.warmup ?? 1); i < req.n; i++) {
      const id = i < 0 ? `stop-warmup${i}` : `stop-${i}`;
      await rt.run(id, { bundle: writeBundle(req.bundles, 'runts', id, ['/bin/sleep', '1000']), detach: true });
      const { pid } = await rt.state(id);
      await new Promise((r) => setTimeout(r, 20)); // let the init settle into sleep
      const reply = next();
      observer.postMessage({ ids: [id], pids: [pid] });
      const ms = (await reply) as number;
      if (ms > 5000) throw new Error(`container ${id} not stopped 5 s after SIGKILL`);
      if (i >= 0) (samples.runts ??= []).push(ms);
      await rt.delete(id, { force: true });
    }
    for (let b = 0; b < (req.bursts?.count ?? 0); b++) {
      const ids = Array.from({ length: req.bursts!.size }, (_, i) => `burst-${b}-${i}`);
      const pids: number[] = [];
      for (const id of ids) {
        await rt.run(id, { bundle: writeBundle(req.bundles, 'runts', id, ['/bin/sleep', '1000']), detach: true });
        pids.push((await rt.state(id)).pid);
      }
      await new Promise((r) => setTimeout(r, 20));
      const reply = next();
      observer.postMessage({ ids, pids });
      const ms = (await reply) as number;
      if (ms > 5000) throw new Error(`burst ${b}: not all ${ids.length} containers stopped 5 s after SIGKILL`);
      (burstSamples ??= []).push(ms);
      for (const id of ids) await rt.delete(id, { force: true });
    }
  } finally {
    await observer.terminate();
    await resident.close();
  }
  return { samples, burstSamples };
}

/** Item 6: N sleeping containers under one resident host: heap and RSS per container, create all, delete all. */
async function heap(): Promise<DriverResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the heap benchmark needs node --expose-gc');
  const measure = () => {
    gc();
    gc();
    return process.memoryUsage();
  };
  const bundles = Array.from({ length: req.n }, (_, i) => writeBundle(req.bundles, 'runts', `heap-${i}`, ['/bin/sleep', '100000']));
  const resident = await rt.serve({});
  const create: number[] = [];
  const del: number[] = [];
  try {
    const before = measure();
    const t0 = now();
    for (let i = 0; i < req.n; i++) {
      const t = now();
      await rt.run(`heap-${i}`, { bundle: bundles[i], detach: true });
      create.push(elapsedMs(t, now()));
    }
    const createAllMs = elapsedMs(t0, now());
    await new Promise((r) => setTimeout(r, 500)); // let the host settle (exit watches, caches)
    const after = measure();
    const t1 = now();
    for (let i = 0; i < req.n; i++) {
      const t = now();
      await rt.delete(`heap-${i}`, { force: true });
      del.push(elapsedMs(t, now()));
    }
    return {
      samples: { runts: create },
      heapPerContainerKB: (after.heapUsed - before.heapUsed) / req.n / 1024,
      rssPerContainerKB: (after.rss - before.rss) / req.n / 1024,
      createAllMs,
      deleteAllMs: elapsedMs(t1, now()),
      deleteSamples: del,
    };
  } finally {
    for (let i = 0; i < req.n; i++) await rt.delete(`heap-${i}`, { force: true }).catch(() => undefined);
    await resident.close();
  }
}

try {
  const result = req.mode === 'api' ? await api() : req.mode === 'stop' ? await stop() : await heap();
  writeFileSync(req.out, JSON.stringify(result));
} finally {
  await rt.close();
}
