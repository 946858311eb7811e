// planInit's gofer parts: which ops run in stage-1 and in which order, what goes on the gofer's mount list and
// what is left to the init. Pure: plans are built, never spawned.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { decodeMountList, type MountListEntry } from '../../src/gofer/index.js';
import { planInit, type InitPlanInput } from '../../src/linux/plan-init.js';
import { CLONE, MS, type PlanOp } from '../../src/native/plan.js';
import { defaultSpec } from '../../src/oci/default-spec.js';
import type { Spec } from '../../src/oci/types.js';

let dir = '';
let rootfs = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'runts-gofer-plan-'));
  rootfs = join(dir, 'rootfs');
  mkdirSync(join(rootfs, 'proc'), { recursive: true });
  symlinkSync('/etc', join(rootfs, 'evil'));
  writeFileSync(join(dir, 'hostfile'), 'x');
});
after(() => rmSync(dir, { recursive: true, force: true }));

function input(edit: (s: Spec) => void = () => undefined): InitPlanInput {
  const spec = defaultSpec({});
  edit(spec);
  return {
    spec,
    rootfs,
    bundle: dir,
    cgroupProcsFiles: ['/sys/fs/cgroup/memory/c/cgroup.procs', '/sys/fs/cgroup/pids/c/cgroup.procs'],
    cgroupViews: [{ name: 'memory', hostDir: '/sys/fs/cgroup/memory/c' }],
    fifoPath: '/run/runts/c/exec.fifo',
    gofer: { binary: '/opt/runts-gofer', socketPath: '/run/runts/c/gofer.sock' },
  };
}

const names = (ops: PlanOp[]) => ops.map((o) => o.op);
const indexOf = (ops: PlanOp[], pred: (o: PlanOp) => boolean): number => {
  const i = ops.findIndex(pred);
  assert.notEqual(i, -1, 'op not found');
  return i;
};

function goferList(ops: PlanOp[]): { root: string; entries: MountListEntry[] } {
  const op = ops.find((o) => o.op === 'spawnGofer');
  assert.ok(op && op.op === 'spawnGofer', 'the plan spawns a gofer');
  return decodeMountList(op.mountList);
}

describe('planInit: stage-1 and the gofer', () => {
  it('opens the cgroup files first and joins them after the gofer started, before the pid namespace', () => {
    const ops = planInit(input()).ops;
    assert.deepEqual(names(ops.slice(0, 4)), ['cgroupOpen', 'cgroupOpen', 'openFifo', 'goferPrepare']);
    assert.equal(ops.some((o) => o.op === 'writeFile' && o.path.endsWith('cgroup.procs')), false, 'no join before the gofer');
    const spawn = indexOf(ops, (o) => o.op === 'spawnGofer');
    const join = indexOf(ops, (o) => o.op === 'cgroupJoin');
    const fork = indexOf(ops, (o) => o.op === 'fork');
    assert.ok(spawn < join && join < fork);
  });

  it('with a cgroup gate, opens the cgroup files after the gate, once the gofer started (the cgroup is made meanwhile)', () => {
    const ops = planInit({ ...input(), cgroupGate: true }).ops;
    const spawn = indexOf(ops, (o) => o.op === 'spawnGofer');
    assert.deepEqual(names(ops.slice(spawn, spawn + 5)), ['spawnGofer', 'gate', 'cgroupOpen', 'cgroupOpen', 'cgroupJoin']);
    assert.equal(ops.filter((o) => o.op === 'gate').length, 1);
  });

  it('with a cgroup gate and a user namespace or a joined namespace, waits at the gate first thing', () => {
    const userns = planInit({
      ...input((s) => {
        s.linux!.namespaces!.push({ type: 'user' });
        s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      }),
      cgroupGate: true,
    }).ops;
    assert.deepEqual(names(userns.slice(0, 3)), ['gate', 'cgroupOpen', 'cgroupOpen']);
    const joined = planInit({ ...input((s) => s.linux!.namespaces!.push({ type: 'cgroup', path: '/proc/42/ns/cgroup' })), cgroupGate: true }).ops;
    assert.deepEqual(names(joined.slice(0, 3)), ['gate', 'cgroupOpen', 'cgroupOpen']);
  });

  it('spawns the gofer after the rootfs is a slave bind mount of itself, and makes pid and cgroup namespaces after it', () => {
    const ops = planInit(input((s) => s.linux!.namespaces!.push({ type: 'cgroup' }))).ops;
    const firstUnshare = indexOf(ops, (o) => o.op === 'unshare');
    const early = ops[firstUnshare] as Extract<PlanOp, { op: 'unshare' }>;
    assert.equal(early.flags & CLONE.NEWNS, CLONE.NEWNS, 'the mount namespace exists before the gofer');
    assert.equal(early.flags & (CLONE.NEWPID | CLONE.NEWCGROUP), 0, 'no pid or cgroup namespace yet');
    const slave = indexOf(ops, (o) => o.op === 'mount' && o.target === '/' && o.flags === (MS.REC | MS.SLAVE));
    const bind = indexOf(ops, (o) => o.op === 'mount' && o.source === rootfs && o.target === rootfs);
    const spawn = indexOf(ops, (o) => o.op === 'spawnGofer');
    const late = indexOf(ops, (o) => o.op === 'unshare' && (o.flags & CLONE.NEWPID) !== 0);
    assert.ok(firstUnshare < slave && slave < bind && bind < spawn && spawn < late);
    assert.equal((ops[late] as Extract<PlanOp, { op: 'unshare' }>).flags, CLONE.NEWPID | CLONE.NEWCGROUP);
    assert.equal(names(ops)[late + 1], 'fork');
  });

  it('looks the gofer binary and socket up before joining any namespace by path; joins the pid namespace last', () => {
    const ops = planInit(
      input((s) => {
        s.linux!.namespaces = [
          { type: 'pid', path: '/proc/42/ns/pid' },
          { type: 'network', path: '/proc/42/ns/net' },
          { type: 'mount' },
          { type: 'ipc' },
        ];
      }),
    ).ops;
    const prepare = indexOf(ops, (o) => o.op === 'goferPrepare');
    assert.deepEqual(ops[prepare], { op: 'goferPrepare', socketPath: '/run/runts/c/gofer.sock', binaryPath: '/opt/runts-gofer' });
    const net = indexOf(ops, (o) => o.op === 'setns' && o.nstype === CLONE.NEWNET);
    const spawn = indexOf(ops, (o) => o.op === 'spawnGofer');
    const pid = indexOf(ops, (o) => o.op === 'setns' && o.nstype === CLONE.NEWPID);
    assert.ok(prepare < net && net < spawn && spawn < pid, 'pid is joined after the gofer: it stays out of the container');
  });

  it('lists every mount but proc and cgroup for the gofer, with container paths (symlinks resolved by the gofer) and a report each', () => {
    const ops = planInit(
      input((s) => {
        s.mounts = [
          { destination: '/proc', type: 'proc', source: 'proc' },
          { destination: '/evil/x', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m'] },
          { destination: '/data/f', type: 'bind', source: 'hostfile', options: ['bind', 'ro'] },
        ];
      }),
    ).ops;
    const { root, entries } = goferList(ops);
    assert.equal(root, rootfs);
    assert.deepEqual(entries, [
      { kind: 'mkdir', path: '/evil/x', mode: 0o755 },
      { kind: 'mount', source: 'tmpfs', target: '/evil/x', fstype: 'tmpfs', flags: MS.NOSUID, data: 'size=1m' },
      { kind: 'report', path: '/evil/x' },
      { kind: 'mkfile', path: '/data/f', mode: 0o644 },
      { kind: 'mount', source: join(dir, 'hostfile'), target: '/data/f', fstype: '', flags: MS.BIND, data: '' },
      { kind: 'mount', source: '', target: '/data/f', fstype: '', flags: MS.BIND | MS.REMOUNT | MS.RDONLY, data: '' },
      { kind: 'report', path: '/data/f' },
    ]);
    // proc is the init's (it needs the container's pid namespace), at the container path it resolves in the rootfs.
    const fork = indexOf(ops, (o) => o.op === 'fork');
    const proc = indexOf(ops, (o) => o.op === 'mount' && o.fstype === 'proc');
    assert.ok(proc > fork);
    assert.equal((ops[proc] as Extract<PlanOp, { op: 'mount' }>).target, '/proc');
    // Nothing of the gofer's list is mounted by the init as well.
    assert.equal(ops.some((o) => o.op === 'mount' && o.fstype === 'tmpfs' && o.target.includes('evil')), false);
    assert.equal(ops.some((o) => o.op === 'mount' && o.target.endsWith('/etc/x')), false);
  });

  it('leaves mounts at or under a proc mount to the init, in order after it', () => {
    const ops = planInit(
      input((s) => {
        s.mounts = [
          { destination: '/proc', type: 'proc', source: 'proc' },
          { destination: '/proc/cpuinfo', type: 'bind', source: 'hostfile', options: ['bind'] },
          { destination: '/procfs-not-under', type: 'tmpfs', source: 'tmpfs' },
        ];
      }),
    ).ops;
    const { entries } = goferList(ops);
    assert.deepEqual(
      entries.filter((e) => e.kind === 'report').map((e) => (e as { path: string }).path),
      ['/procfs-not-under'],
    );
    const proc = indexOf(ops, (o) => o.op === 'mount' && o.fstype === 'proc');
    const cpuinfo = indexOf(ops, (o) => o.op === 'mount' && o.target === '/proc/cpuinfo');
    assert.ok(proc < cpuinfo);
  });

  it('leaves the cgroup mount to the init (its cgroup may still be in the making), and a later mount above it too', () => {
    const ops = planInit(
      input((s) => {
        s.mounts = [
          { destination: '/sys', type: 'sysfs', source: 'sysfs' },
          { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup' },
          { destination: '/sys/fs/cgroup/extra', type: 'tmpfs', source: 'tmpfs' },
          { destination: '/sys/fs', type: 'tmpfs', source: 'tmpfs' },
          { destination: '/elsewhere', type: 'tmpfs', source: 'tmpfs' },
        ];
      }),
    ).ops;
    const reports = goferList(ops).entries.filter((e) => e.kind === 'report').map((e) => (e as { path: string }).path);
    assert.deepEqual(reports, ['/sys', '/elsewhere']);
    const fork = indexOf(ops, (o) => o.op === 'fork');
    const at = (target: string) => indexOf(ops, (o) => o.op === 'mount' && o.target === `/${target}` && o.source !== '');
    const bind = indexOf(ops, (o) => o.op === 'mount' && o.source === '/sys/fs/cgroup/memory/c');
    assert.ok(fork < at('sys/fs/cgroup') && at('sys/fs/cgroup') < bind && bind < at('sys/fs/cgroup/extra') && at('sys/fs/cgroup/extra') < at('sys/fs'));
  });

  it('gives the gofer of a joined mount namespace that namespace\'s root and nothing to mount', () => {
    const ops = planInit(
      input((s) => {
        s.linux!.namespaces = [{ type: 'mount', path: '/proc/42/ns/mnt' }, { type: 'pid' }];
      }),
    ).ops;
    assert.deepEqual(goferList(ops), { root: '/', entries: [] });
    assert.equal(ops.some((o) => o.op === 'pivotRoot'), false);
  });

  it('still refuses a config without a mount namespace', () => {
    assert.throws(
      () => planInit(input((s) => (s.linux!.namespaces = [{ type: 'pid' }]))),
      /no "mount" namespace/,
    );
  });
});
