// planInit's init part (issue 15): between rootfsOpen and pivotRoot every path the init creates or mounts on is a
// container path (the init resolves it inside the rootfs), sysctls come before readonlyPaths, and the config rules
// runc has for /proc, /sys and list sizes are checked before anything starts. Pure: plans are built, never spawned.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { planInit, sysctlPath, type InitPlanInput } from '../../src/linux/plan-init.js';
import { type PlanOp } from '../../src/native/plan.js';
import { validateSpec } from '../../src/oci/validate.js';
import { defaultSpec } from '../../src/oci/default-spec.js';
import type { Spec } from '../../src/oci/types.js';

let dir = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'runts-init-plan-'));
  mkdirSync(join(dir, 'rootfs', 'proc'), { recursive: true });
  writeFileSync(join(dir, 'hostfile'), 'x');
});
after(() => rmSync(dir, { recursive: true, force: true }));

function input(edit: (s: Spec) => void = () => undefined, rootfs = join(dir, 'rootfs')): InitPlanInput {
  const spec = defaultSpec({});
  edit(spec);
  return {
    spec,
    rootfs,
    bundle: dir,
    cgroupProcsFiles: ['/sys/fs/cgroup/memory/c/cgroup.procs'],
    cgroupViews: [{ name: 'memory', hostDir: '/sys/fs/cgroup/memory/c' }],
    fifoPath: '/run/runts/c/exec.fifo',
    gofer: { binary: '/opt/runts-gofer', socketPath: '/run/runts/c/gofer.sock' },
  };
}

const at = (ops: PlanOp[], name: string): number => ops.findIndex((o) => o.op === name);
const pathOf = (o: PlanOp): string | undefined =>
  o.op === 'mount' ? o.target : o.op === 'symlink' ? o.linkpath : 'path' in o ? (o.path as string) : undefined;

describe('planInit: the init resolves its paths inside the rootfs', () => {
  it('opens the rootfs after the fork and gives every op up to pivotRoot a container path', () => {
    const rootfs = join(dir, 'rootfs');
    const ops = planInit(
      input((s) => {
        s.linux!.devices = [{ path: '/proc/self/root/tmp/HOSTBLK', type: 'b', major: 254, minor: 0 }];
        s.mounts!.push({ destination: '/proc/1/../cpuinfo', type: 'bind', source: 'hostfile', options: ['bind'] });
      }),
    ).ops;
    const open = at(ops, 'rootfsOpen');
    const pivot = at(ops, 'pivotRoot');
    assert.ok(at(ops, 'fork') < open && open < pivot);
    assert.deepEqual(ops[open], { op: 'rootfsOpen', path: rootfs });
    const between = ops.slice(open + 1, pivot);
    for (const o of between) {
      const p = pathOf(o);
      if (p === undefined) continue;
      assert.ok(p.startsWith('/') && !p.startsWith(dir), `${o.op} ${p} is a container path`);
    }
    const targets = between.map(pathOf);
    assert.ok(targets.includes('/proc'), 'the proc mount');
    assert.ok(targets.includes('/proc/cpuinfo'), 'a normalized destination');
    assert.ok(targets.includes('/dev/null'));
    // The config's device keeps its container path: the init refuses the magic link, never the host's /tmp.
    assert.ok(targets.includes('/proc/self/root/tmp/HOSTBLK'));
    assert.ok(between.some((o) => o.op === 'symlink' && o.target === '/proc/self/fd' && o.linkpath === '/dev/fd'));
    // Mount sources stay host paths.
    assert.ok(between.some((o) => o.op === 'mount' && o.source === join(dir, 'hostfile') && o.target === '/proc/cpuinfo'));
  });

  it('writes sysctls after pivotRoot and before readonlyPaths and maskedPaths, with runc\'s key syntax', () => {
    const ops = planInit(
      input((s) => (s.linux!.sysctl = { 'net.ipv4.ip_unprivileged_port_start': '0', 'net/ipv4/conf/eth0.100/forwarding': '1' })),
    ).ops;
    const writes = ops.flatMap((o, i) => (o.op === 'writeFile' && o.path.startsWith('/proc/sys/') ? [i] : []));
    assert.deepEqual(
      writes.map((i) => (ops[i] as { path: string }).path),
      ['/proc/sys/net/ipv4/ip_unprivileged_port_start', '/proc/sys/net/ipv4/conf/eth0.100/forwarding'],
    );
    assert.ok(at(ops, 'pivotRoot') < writes[0]);
    assert.ok(writes[1] < at(ops, 'readonlyPath') && writes[1] < at(ops, 'maskPath'));
    assert.equal(sysctlPath('kernel.shm_rmid_forced'), 'kernel/shm_rmid_forced');
  });
});

describe('planInit: config rules checked before anything starts', () => {
  const refuses = (edit: (s: Spec) => void, pattern: RegExp, rootfs?: string) =>
    assert.throws(() => planInit(input(edit, rootfs)), (e: Error & { code?: string }) => e.code === 'bad_config' && pattern.test(e.message) && !e.message.includes('\n'));

  it('refuses mounts inside /proc but runc\'s allow-list, and anything but procfs on /proc', () => {
    for (const destination of ['/proc/sys/kernel', '/proc/self/root/tmp/x', '/proc/1/root/etc', '/proc/../proc/sys']) {
      refuses((s) => s.mounts!.push({ destination, type: 'bind', source: '/tmp', options: ['rbind'] }), /mounts\[\d+\].*is inside \/proc: only \/proc\/cpuinfo/);
    }
    refuses((s) => s.mounts!.push({ destination: '/proc', type: 'tmpfs', source: 'tmpfs' }), /only a proc mount .* on \/proc/);
    refuses((s) => s.mounts!.push({ destination: '/proc', type: 'bind', source: '/tmp', options: ['bind'] }), /only a proc mount .* on \/proc/);
    for (const destination of ['/proc/uptime', '/proc/meminfo', '/proc/sys/kernel/ns_last_pid', '/proc/net/dev']) {
      planInit(input((s) => s.mounts!.push({ destination, type: 'bind', source: 'hostfile', options: ['bind'] })));
    }
    planInit(input((s) => s.mounts!.push({ destination: '/proc', type: 'bind', source: '/proc', options: ['rbind'] })));
  });

  it('refuses a /proc or /sys that is a symlink (or not a directory) in the rootfs', () => {
    const rootfs = join(dir, 'symlinked');
    mkdirSync(rootfs);
    symlinkSync('/tmp', join(rootfs, 'proc'));
    writeFileSync(join(rootfs, 'sys'), '');
    refuses(() => undefined, /\/proc is a symlink in the rootfs \(to "\/tmp"\): proc must be mounted on an ordinary directory/, rootfs);
    rmSync(join(rootfs, 'proc'));
    refuses(() => undefined, /\/sys in the rootfs is not a directory: sysfs must be mounted on an ordinary directory/, rootfs);
  });

  it('refuses net.* sysctls in the host\'s network namespace', () => {
    refuses((s) => {
      s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: '/proc/self/ns/net' } : n));
    }, /linux\.sysctl "net\.ipv4\.ip_forward" is not allowed in the host's network namespace/);
  });

  it('names process.args / process.env and the limit when a list is too long', () => {
    const spec = defaultSpec({});
    spec.process!.env = Array.from({ length: 1025 }, (_, i) => `V${i}=1`);
    assert.throws(() => validateSpec(spec), /process\.env has 1025 entries, more than the 1024 runts supports/);
    // 1024 given without PATH and HOME: the two runts adds make 1026.
    refuses((s) => (s.process!.env = Array.from({ length: 1024 }, (_, i) => `V${i}=1`)), /process\.env .* has 1026 entries, more than the 1024/);
    spec.process!.env = [];
    spec.process!.args = Array.from({ length: 1025 }, () => 'a');
    assert.throws(() => validateSpec(spec), /process\.args has 1025 entries, more than the 1024 runts supports/);
  });
});
