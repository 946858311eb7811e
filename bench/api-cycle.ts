// Benchmark item 3: the create / start / wait-for-stopped / delete cycle through the embedded Runtime API in one
// warm process, beside crun's `run` of /bin/true (through bench/crun-wrapper.sh). Usage:
//   node --import tsx bench/api-cycle.ts [cycles]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Runtime } from '../src/index.js';
import { defaultSpec } from '../src/oci/default-spec.js';
import { nativePort } from '../src/native/index.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cycles = Number(process.argv[2] ?? 50);
const dir = mkdtempSync(join(tmpdir(), 'runts-api-bench-'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function bundle(name: string, cgroup: string): string {
  const b = join(dir, name);
  mkdirSync(b);
  spawnSync(join(repo, 'scripts/make-rootfs.sh'), [join(b, 'rootfs')]);
  const spec = defaultSpec({ args: ['/bin/true'] });
  spec.ociVersion = '1.0.2'; // crun 1.8.1 refuses 1.2.0
  spec.process!.terminal = false;
  spec.linux!.cgroupsPath = cgroup;
  writeFileSync(join(b, 'config.json'), JSON.stringify(spec));
  return b;
}

const rt = await Runtime.open({ root: join(dir, 'root') });
const sys = nativePort();
const api: number[] = [];
const crun: number[] = [];
const runtsBundle = bundle('runts', `/runts-api-bench-${process.pid}/c`);
const crunBundle = bundle('crun', `/runts-api-bench-${process.pid}/crun`);
try {
  for (let i = -1; i < cycles; i++) {
    const t0 = process.hrtime.bigint();
    const { pid } = await rt.create(`c${i + 1}`, { bundle: runtsBundle });
    await rt.start(`c${i + 1}`);
    await sys.waitPidAsync(pid).catch(() => undefined); // our child: reaped here (stopped)
    await rt.delete(`c${i + 1}`, { force: true });
    const apiMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const t1 = process.hrtime.bigint();
    spawnSync(join(repo, 'bench/crun-wrapper.sh'), ['--root', join(dir, 'crun-root'), 'run', '--bundle', crunBundle, `k${i + 1}`], { stdio: 'ignore' });
    const crunMs = Number(process.hrtime.bigint() - t1) / 1e6;
    if (i >= 0) {
      api.push(apiMs);
      crun.push(crunMs);
    }
  }
  const a = median(api);
  const c = median(crun);
  console.log(`embedded API cycle: median ${a.toFixed(1)} ms (min ${Math.min(...api).toFixed(1)}, max ${Math.max(...api).toFixed(1)}) = ${(1000 / a).toFixed(1)} containers/s`);
  console.log(`crun run /bin/true: median ${c.toFixed(1)} ms (min ${Math.min(...crun).toFixed(1)}, max ${Math.max(...crun).toFixed(1)})`);
  console.log(`ratio runts-API/crun: ${(a / c).toFixed(2)} (target ≤ 0.5)`);
} finally {
  await rt.close();
  rmSync(dir, { recursive: true, force: true });
  spawnSync('sh', ['-c', `rmdir /sys/fs/cgroup/*/runts-api-bench-${process.pid} 2>/dev/null; true`]);
}
