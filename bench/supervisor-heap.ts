// Benchmark item 6 (partial): N sleeping containers under one resident host (an embedded Runtime serving as the
// supervisor, as `runts supervise` does): heap and RSS per container, time to create all, time to delete all.
//   node --expose-gc --import tsx bench/supervisor-heap.ts [N]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Runtime } from '../src/index.js';
import { defaultSpec } from '../src/oci/default-spec.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const n = Number(process.argv[2] ?? 200);
const dir = mkdtempSync(join(tmpdir(), 'runts-heap-bench-'));
const cg = `/runts-heap-bench-${process.pid}`;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const measure = () => {
  gc();
  gc();
  return { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss };
};

const shared = join(dir, 'rootfs');
spawnSync(join(repo, 'scripts/make-rootfs.sh'), [shared]);
const bundles = Array.from({ length: n }, (_, i) => {
  const b = join(dir, `b${i}`);
  mkdirSync(b);
  const spec = defaultSpec({ args: ['/bin/sleep', '100000'] });
  spec.process!.terminal = false;
  spec.root = { path: shared, readonly: true };
  spec.linux!.cgroupsPath = `${cg}/c${i}`;
  writeFileSync(join(b, 'config.json'), JSON.stringify(spec));
  return b;
});

const rt = await Runtime.open({ root: join(dir, 'root') });
const resident = await rt.serve({});
try {
  const before = measure();
  let t0 = Date.now();
  for (let i = 0; i < n; i++) await rt.run(`c${i}`, { bundle: bundles[i], detach: true });
  const createMs = Date.now() - t0;
  await new Promise((r) => setTimeout(r, 500));
  const after = measure();
  t0 = Date.now();
  for (let i = 0; i < n; i++) await rt.delete(`c${i}`, { force: true });
  const deleteMs = Date.now() - t0;
  const kb = (x: number) => (x / 1024).toFixed(1);
  console.log(`${n} sleeping containers under one resident host:`);
  console.log(`  heap per container: ${kb((after.heap - before.heap) / n)} KB (target <= 20 KB)`);
  console.log(`  RSS per container:  ${kb((after.rss - before.rss) / n)} KB`);
  console.log(`  create all: ${createMs} ms (${(createMs / n).toFixed(1)} ms each); delete all: ${deleteMs} ms (${(deleteMs / n).toFixed(1)} ms each)`);
} finally {
  await resident.close();
  for (let i = 0; i < n; i++) await rt.delete(`c${i}`, { force: true }).catch(() => undefined);
  await rt.close();
  rmSync(dir, { recursive: true, force: true });
  spawnSync('sh', ['-c', `for d in /sys/fs/cgroup/*${cg}; do rmdir $d/* $d 2>/dev/null; done; true`]);
}
