import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CgroupError, detectLayout, openCgroup, type CgroupLayout, type CgroupManager } from '../../src/linux/cgroups/index.js';

const isRoot = process.getuid?.() === 0;
const layout: CgroupLayout | undefined = isRoot ? detectLayout() : undefined;
const skip = !isRoot ? 'needs root' : layout!.mode === 'v2' ? 'written for v1/hybrid hosts (this one is v2)' : false;

const parent = `/runts-test-${randomBytes(4).toString('hex')}`;
const cgPath = `${parent}/c1`;
let child: ChildProcess | undefined;
let cg: CgroupManager | undefined;

const MiB = 1024 * 1024;
const read = (file: string): string => fs.readFileSync(file, 'utf8').trim();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function procState(pid: number): string {
  return /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';
}

after(async () => {
  // Runs even when a test failed: never leave a sleeping process or cgroup dirs behind.
  if (child && child.exitCode === null && child.signalCode === null) {
    try {
      cg?.thaw();
    } catch {
      // not frozen, or already gone
    }
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
  }
  if (!layout) return;
  for (const h of layout.hierarchies) {
    for (const p of [cgPath, parent]) {
      try {
        fs.rmdirSync(path.join(h.mountpoint, p));
      } catch {
        // already removed (the normal case) or still busy; nothing better to do here
      }
    }
  }
});

describe('cgroups on the real host', { skip }, () => {
  it('creates, limits, joins, freezes, reports and destroys a cgroup', async () => {
    const l = layout!;
    cg = openCgroup(l, cgPath);
    const result = cg.create({
      memory: { limit: 64 * MiB },
      pids: { limit: 20 },
      cpu: { shares: 512, cpus: '0' },
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      ],
    });
    assert.equal(result.created, true);
    assert.deepEqual(result.warnings, []);
    for (const d of cg.dirs) assert.ok(fs.statSync(d).isDirectory(), d);

    // The shell waits until it is in every hierarchy, then execs sleep: the exec maps new memory, which is
    // charged to the new memory cgroup (pages allocated before the move stay charged to the old one).
    child = spawn('/bin/sh', ['-c', 'read go; exec sleep 100'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const pid = child.pid!;
    for (const file of cg.procsFiles()) fs.writeFileSync(file, String(pid));
    child.stdin!.end('go\n');
    for (let i = 0; i < 100 && read(`/proc/${pid}/comm`) !== 'sleep'; i++) await sleep(10);
    assert.equal(read(`/proc/${pid}/comm`), 'sleep');

    // Limits as the kernel reports them.
    const at = (controller: string, file: string): string => read(path.join(l.controllers[controller], cgPath, file));
    assert.equal(at('memory', 'memory.limit_in_bytes'), String(64 * MiB));
    assert.equal(at('pids', 'pids.max'), '20');
    assert.equal(at('cpu', 'cpu.shares'), '512');
    assert.equal(at('cpuset', 'cpuset.cpus'), '0');
    assert.equal(at('devices', 'devices.list'), 'c 1:3 rwm');

    // The process is in every hierarchy, incl. the hybrid unified tree.
    assert.ok(cg.pids().includes(pid));
    const own = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    for (const line of own.trim().split('\n')) assert.ok(line.endsWith(`:${cgPath}`), line);

    cg.freeze();
    assert.equal(at('freezer', 'freezer.state'), 'FROZEN');
    assert.equal(cg.freezerState(), 'FROZEN');
    assert.notEqual(procState(pid), 'R');
    cg.thaw();
    assert.equal(at('freezer', 'freezer.state'), 'THAWED');
    assert.equal(cg.freezerState(), 'THAWED');

    const stats = cg.stats();
    assert.ok(stats.memory.usage.usage > 0, `memory usage ${stats.memory.usage.usage}`);
    assert.equal(stats.memory.usage.limit, 64 * MiB);
    assert.equal(stats.pids.current, 1);
    assert.equal(stats.pids.limit, 20);
    assert.ok(stats.cpu.usage.total > 0);

    // Lowering the memory limit below usage: the kernel's EBUSY surfaces as a clear error.
    assert.throws(
      () => cg!.apply({ memory: { limit: 4096 } }),
      (e: unknown) => e instanceof CgroupError && e.code === 'sys' && /EBUSY.*set a higher limit/.test(e.message),
    );
    assert.equal(at('memory', 'memory.limit_in_bytes'), String(64 * MiB));

    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    cg.destroy();
    for (const d of cg.dirs) assert.equal(fs.existsSync(d), false, `${d} still exists`);
    assert.equal(fs.existsSync(path.join(l.unified ?? '/nonexistent', cgPath)), false);
    assert.equal(cg.exists(), false);
    cg.destroy(); // idempotent
  });

  it('destroys a cgroup that has sub-cgroups (made inside it by its processes), children first', () => {
    const l = layout!;
    cg = openCgroup(l, cgPath);
    cg.create();
    for (const d of cg.dirs) fs.mkdirSync(path.join(d, 'inner', 'deeper'), { recursive: true });
    cg.destroy();
    for (const d of cg.dirs) assert.equal(fs.existsSync(d), false, `${d} still exists`);
  });
});
