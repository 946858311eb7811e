// The floor under benchmark 4 (stop detection with the resident host) on this machine: what any Node process pays
// from SIGKILL of a child to a commit other processes can read, with no runts code in between. A plain `sleep` child
// is killed by an observer thread, the main thread's libuv `exit` event does one LMDB write transaction (the store's
// flags: overlapping sync, visible before flushed), and the observer — like benchmark 4's — polls the key every 20 µs
// through a handle of its own. Between kills the process idles 20 ms, as in benchmark 4.
//
// usage (root not needed): node bench/stop-floor.mjs [kills = 60]
// Prints p50, min and p90 in ms. Benchmark 4's figure minus this one is runts' own work per exit (reaping, the
// chart, the record, its history and feed entries) plus a container init's exit in place of a plain process's.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const kills = Number(process.argv[2] ?? 60);
const lmdbPath = createRequire(import.meta.url).resolve('lmdb');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-stop-floor-'));
const file = path.join(work, 'floor.mdb');
// As src/persistence/store.ts opens the store and writes (VISIBLE_THEN_FLUSHED).
const OPTIONS = { path: file, noSubdir: true, encoding: 'json', overlappingSync: true, usePreviousSnapshot: true };
const VISIBLE_THEN_FLUSHED = 0x10000 | 3;

const { open } = await import(lmdbPath);
const env = open(OPTIONS);
const observer = new Worker(
  `const { parentPort, workerData } = require('node:worker_threads');
   const env = require(workerData.lmdb).open(workerData.options);
   const pause = new Int32Array(new SharedArrayBuffer(4));
   parentPort.on('message', ({ pid, key }) => {
     const t0 = process.hrtime.bigint();
     process.kill(pid, 'SIGKILL');
     for (;;) {
       env.resetReadTxn();
       if (env.get(key) === 'stopped') break;
       Atomics.wait(pause, 0, 0, 0.02);
     }
     parentPort.postMessage(Number(process.hrtime.bigint() - t0) / 1e6);
   });
   parentPort.postMessage('ready');`,
  { eval: true, workerData: { lmdb: lmdbPath, options: OPTIONS } },
);
let waiting;
observer.on('message', (v) => waiting?.(v));
const reply = () => new Promise((resolve) => (waiting = resolve));
await reply();

const samples = [];
try {
  for (let i = -1; i < kills; i++) {
    const key = `k${i}`;
    const child = spawn('/bin/sleep', ['1000'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 20));
    child.once('exit', () => env.transactionSync(() => env.putSync(key, 'stopped'), VISIBLE_THEN_FLUSHED));
    const ms = reply();
    observer.postMessage({ pid: child.pid, key });
    if (i >= 0) samples.push(await ms);
    else await ms;
  }
} finally {
  await observer.terminate();
  env.close();
  fs.rmSync(work, { recursive: true, force: true });
}
samples.sort((a, b) => a - b);
const at = (q) => samples[Math.min(samples.length - 1, Math.floor(samples.length * q))].toFixed(3);
console.log(`SIGKILL → readable commit, ${samples.length} kills: p50 ${at(0.5)} ms, min ${at(0)} ms, p90 ${at(0.9)} ms`);
