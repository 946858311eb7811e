// The Node side of benchmark 3's cycle alone: create → start → (the init "exits") → delete({force}) through the
// Runtime against the fake syscall port (test/helpers/fake-port.ts: no process is started) and a fake hybrid
// cgroupfs in a tmpfs, so what is timed is runts' own JavaScript, its store commits and the state dir's files — the
// part of a real cycle no kernel work hides. Prints the median of each call over the second half of the cycles.
//
// usage: node --import tsx bench/node-cycle.ts [cycles = 2000]
import fs from 'node:fs';
import path from 'node:path';
import { hostCgroups } from '../src/actors/default-ports.js';
import type { HookPort, Ports } from '../src/actors/ports.js';
import { defaultSpec } from '../src/oci/default-spec.js';
import { Runtime } from '../src/runtime.js';
import { waitForStop } from '../src/workers/stop-waiter.js';
import { fakeHybridCgroupfs } from '../test/helpers/fake-cgroupfs.js';
import { FakeSyscallPort } from '../test/helpers/fake-port.js';

const cycles = Number(process.argv[2] ?? 2000);
const dir = fs.mkdtempSync('/dev/shm/runts-node-cycle-');
try {
  fs.mkdirSync(path.join(dir, 'cg'));
  const layout = fakeHybridCgroupfs(path.join(dir, 'cg'));
  const sys = new FakeSyscallPort();
  const cgroups = hostCgroups(() => layout);
  const hooks: HookPort = { run: async () => undefined, runBestEffort: async () => undefined };
  const bundle = path.join(dir, 'bundle');
  fs.mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
  const spec = defaultSpec({});
  spec.process!.terminal = false;
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
  const ports: Ports = { sys, cgroups, hooks, stopWaiter: { wait: async (req) => waitForStop(req, sys, (p) => cgroups.open(p)) } };
  const rt = await Runtime.open({ root: path.join(dir, 'root'), stopTimeoutMs: 200, ports });
  const ms: Record<'create' | 'start' | 'delete', number[]> = { create: [], start: [], delete: [] };
  const timed = async (what: keyof typeof ms, call: () => Promise<unknown>) => {
    const t0 = performance.now();
    await call();
    ms[what].push(performance.now() - t0);
  };
  for (let i = 0; i < cycles; i++) {
    const id = `c${i}`;
    let pid = 0;
    await timed('create', async () => void ({ pid } = await rt.create(id, { bundle })));
    await timed('start', () => rt.start(id));
    sys.exit(pid, { exitCode: 0 });
    await timed('delete', () => rt.delete(id, { force: true }));
  }
  await rt.close();
  const median = (xs: number[]) => [...xs.slice(xs.length / 2)].sort((a, b) => a - b)[Math.floor(xs.length / 4)]!;
  console.log(Object.entries(ms).map(([k, xs]) => `${k} ${median(xs).toFixed(3)} ms`).join('  '));
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
