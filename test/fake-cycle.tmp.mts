import fs from 'node:fs'; import path from 'node:path';
import { hostCgroups } from '/work/main/src/actors/default-ports.js';
import type { HookPort, Ports } from '/work/main/src/actors/ports.js';
import { defaultSpec } from '/work/main/src/oci/default-spec.js';
import { Runtime } from '/work/main/src/runtime.js';
import { waitForStop } from '/work/main/src/workers/stop-waiter.js';
import { fakeHybridCgroupfs } from '/work/main/test/helpers/fake-cgroupfs.js';
import { FakeSyscallPort } from '/work/main/test/helpers/fake-port.js';
const dir = fs.mkdtempSync('/dev/shm/fakecyc-');
fs.mkdirSync(path.join(dir, 'cg'), { recursive: true });
const layout = fakeHybridCgroupfs(path.join(dir, 'cg'));
const sys = new FakeSyscallPort(); const cgroups = hostCgroups(() => layout);
const hooks: HookPort = { run: async () => {}, runBestEffort: async () => {} };
const bundle = path.join(dir, 'bundle'); fs.mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
const spec = defaultSpec({}); spec.process!.terminal = false; fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
const ports: Ports = { sys, cgroups, hooks, stopWaiter: { wait: async (req) => waitForStop(req, sys, (p) => cgroups.open(p)) } };
const rt = await Runtime.open({ root: path.join(dir, 'root'), stopTimeoutMs: 200, ports });
const N = Number(process.argv[2] ?? 2000); const t = { create: [] as number[], start: [] as number[], del: [] as number[] };
for (let i = 0; i < N; i++) {
  const id = `c${i}`;
  let t0 = performance.now(); const { pid } = await rt.create(id, { bundle }); t.create.push(performance.now() - t0);
  t0 = performance.now(); await rt.start(id); t.start.push(performance.now() - t0);
  sys.exit(pid, { exitCode: 0 });
  t0 = performance.now(); await rt.delete(id, { force: true }); t.del.push(performance.now() - t0);
}
const med = (xs: number[]) => { const s = xs.slice(N / 2).sort((a, b) => a - b); return s[s.length >> 1].toFixed(3); };
console.log('create', med(t.create), 'start', med(t.start), 'delete', med(t.del));
await rt.close(); fs.rmSync(dir, { recursive: true, force: true });
