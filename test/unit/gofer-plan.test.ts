// planInit's gofer and mount parts: which ops run in stage-1 and in which order, where the gofer is rooted, and
// the init's mounts in config order. Pure: plans are built, never spawned.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { planInit, planWarnings, type InitPlanInput } from '../../src/linux/plan-init.js';
import { CLONE, MS, type PlanOp } from '../../src/native/plan.js';
import { defaultSpec } from '../../src/oci/default-spec.js';
import type { Spec } from '../../src/oci/types.js';
import { addUserNamespace } from '../helpers/runts.js';

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

function goferRoot(ops: PlanOp[]): string {
  const op = ops.find((o) => o.op === 'spawnGofer');
  assert.ok(op && op.op === 'spawnGofer', 'the plan spawns a gofer');
  return op.root;
}

type MountOp = Extract<PlanOp, { op: 'mount' }>;
/** The init's mounts with a source (not remounts or propagation changes), in plan order. */
const initMounts = (ops: PlanOp[]): MountOp[] =>
  ops.slice(ops.findIndex((o) => o.op === 'rootfsOpen')).filter((o): o is MountOp => o.op === 'mount' && o.source !== '');

describe('planInit: stage-1 and the gofer', () => {
  it('opens the cgroup files first; the init joins them right after the fork, so stage 1 (the gofer) stays out', () => {
    const ops = planInit(input()).ops;
    assert.deepEqual(names(ops.slice(0, 4)), ['cgroupOpen', 'cgroupOpen', 'openFifo', 'goferPrepare']);
    assert.equal(ops.some((o) => o.op === 'writeFile' && o.path.endsWith('cgroup.procs')), false, 'no join but cgroupJoin');
    const spawn = indexOf(ops, (o) => o.op === 'spawnGofer');
    const join = indexOf(ops, (o) => o.op === 'cgroupJoin');
    const fork = indexOf(ops, (o) => o.op === 'fork');
    assert.ok(spawn < fork && join === fork + 1);
  });

  it('with a cgroup gate, the init waits at the gate and opens the cgroup files right after the fork (the cgroup is made meanwhile)', () => {
    const ops = planInit({ ...input(), cgroupGate: true }).ops;
    const fork = indexOf(ops, (o) => o.op === 'fork');
    assert.deepEqual(names(ops.slice(fork, fork + 5)), ['fork', 'gate', 'cgroupOpen', 'cgroupOpen', 'cgroupJoin']);
    assert.equal(ops.filter((o) => o.op === 'gate').length, 1);
  });

  it('with a cgroup gate and a user namespace or a joined namespace, waits at the gate first thing', () => {
    const userns = planInit({
      ...input((s) => {
        addUserNamespace(s);
      }),
      cgroupGate: true,
    }).ops;
    assert.deepEqual(names(userns.slice(0, 3)), ['gate', 'cgroupOpen', 'cgroupOpen']);
    const joined = planInit({ ...input((s) => s.linux!.namespaces!.push({ type: 'cgroup', path: '/proc/42/ns/cgroup' })), cgroupGate: true }).ops;
    assert.deepEqual(names(joined.slice(0, 3)), ['gate', 'cgroupOpen', 'cgroupOpen']);
  });

  it('prepares the gofer after the rootfs is a slave bind mount of itself; the pid namespace comes after it, the cgroup namespace after the join', () => {
    const ops = planInit(input((s) => s.linux!.namespaces!.push({ type: 'cgroup' }))).ops;
    const firstUnshare = indexOf(ops, (o) => o.op === 'unshare');
    const early = ops[firstUnshare] as Extract<PlanOp, { op: 'unshare' }>;
    assert.equal(early.flags & CLONE.NEWNS, CLONE.NEWNS, 'the mount namespace exists before the gofer');
    assert.equal(early.flags & (CLONE.NEWPID | CLONE.NEWCGROUP), 0, 'no pid or cgroup namespace yet');
    const slave = indexOf(ops, (o) => o.op === 'mount' && o.target === '/' && o.flags === (MS.REC | MS.SLAVE));
    const bind = indexOf(ops, (o) => o.op === 'mount' && o.source === rootfs && o.target === rootfs);
    const spawn = indexOf(ops, (o) => o.op === 'spawnGofer');
    const pid = indexOf(ops, (o) => o.op === 'unshare' && (o.flags & CLONE.NEWPID) !== 0);
    assert.ok(firstUnshare < slave && slave < bind && bind < spawn && spawn < pid);
    assert.equal((ops[pid] as Extract<PlanOp, { op: 'unshare' }>).flags, CLONE.NEWPID);
    assert.equal(names(ops)[pid + 1], 'fork');
    const join = indexOf(ops, (o) => o.op === 'cgroupJoin');
    const cgroupNs = indexOf(ops, (o) => o.op === 'unshare' && (o.flags & CLONE.NEWCGROUP) !== 0);
    assert.equal((ops[cgroupNs] as Extract<PlanOp, { op: 'unshare' }>).flags, CLONE.NEWCGROUP);
    assert.ok(pid + 1 < join && join + 1 === cgroupNs, 'the init joins the cgroup, then makes the cgroup namespace');
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

  it('makes every mount in the init, after the fork, in config order (proc first when listed first), at container paths', () => {
    const ops = planInit(
      input((s) => {
        s.mounts = [
          { destination: '/proc', type: 'proc', source: 'proc' },
          { destination: '/evil/x', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m'] },
          { destination: '/data/f', type: 'bind', source: 'hostfile', options: ['bind', 'ro'] },
          { destination: '/proc/cpuinfo', type: 'bind', source: 'hostfile', options: ['bind'] },
          { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup' },
          { destination: '/sys/fs', type: 'tmpfs', source: 'tmpfs' },
        ];
      }),
    ).ops;
    assert.equal(goferRoot(ops), rootfs);
    const fork = indexOf(ops, (o) => o.op === 'fork');
    const open = indexOf(ops, (o) => o.op === 'rootfsOpen');
    const pivot = indexOf(ops, (o) => o.op === 'pivotRoot');
    assert.ok(fork < open && open < pivot);
    const mounts = initMounts(ops).filter((m) => ops.indexOf(m) < pivot);
    assert.deepEqual(
      mounts.map((m) => [m.target, m.fstype || m.source]),
      [
        ['/proc', 'proc'],
        ['/evil/x', 'tmpfs'],
        ['/data/f', join(dir, 'hostfile')],
        ['/proc/cpuinfo', join(dir, 'hostfile')],
        ['/sys/fs/cgroup', 'tmpfs'],
        ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/memory/c'],
        ['/sys/fs', 'tmpfs'],
      ],
    );
    // Container paths: the init resolves them inside the rootfs (/evil -> /etc there, never the host's).
    assert.equal(ops.some((o) => o.op === 'mount' && o.target.startsWith(rootfs) && o.target !== rootfs), false);
    assert.deepEqual(
      ops.filter((o) => o.op === 'mount' && o.target === '/data/f').map((o) => (o as MountOp).flags),
      [MS.BIND, MS.BIND | MS.REMOUNT | MS.RDONLY],
    );
  });

  it('sets up the rootfs in a mount namespace joined by path too: joins it, binds the rootfs, mounts, pivots', () => {
    const ops = planInit(
      input((s) => {
        s.linux!.namespaces = [{ type: 'mount', path: '/proc/42/ns/mnt' }, { type: 'pid' }];
      }),
    ).ops;
    const join = indexOf(ops, (o) => o.op === 'setns' && o.nstype === CLONE.NEWNS);
    const bind = indexOf(ops, (o) => o.op === 'mount' && o.source === rootfs && o.target === rootfs);
    const proc = indexOf(ops, (o) => o.op === 'mount' && o.fstype === 'proc');
    const pivot = indexOf(ops, (o) => o.op === 'pivotRoot');
    assert.ok(join < bind && bind < proc && proc < pivot);
    assert.equal(goferRoot(ops), rootfs);
  });

  it('in a user namespace, copies every bind source as host root before any namespace changes and attaches it in order', () => {
    const ops = planInit(
      input((s) => {
        addUserNamespace(s);
        s.mounts!.push(
          { destination: '/a', type: 'bind', source: 'hostfile', options: ['bind', 'ro'] },
          { destination: '/b', type: 'tmpfs', source: 'tmpfs' },
          { destination: '/c', type: 'none', source: dir, options: ['rbind'] },
        );
      }),
    ).ops;
    const unshare = indexOf(ops, (o) => o.op === 'unshare');
    const opens = ops.filter((o) => o.op === 'sourceOpen');
    assert.deepEqual(opens, [
      { op: 'sourceOpen', recursive: 0, path: join(dir, 'hostfile') },
      { op: 'sourceOpen', recursive: 1, path: dir },
    ]);
    assert.ok(ops.indexOf(opens[1]) < unshare);
    assert.deepEqual(
      ops.filter((o) => o.op === 'mountSource'),
      [
        { op: 'mountSource', index: 0, target: '/a' },
        { op: 'mountSource', index: 1, target: '/c' },
      ],
    );
    assert.equal(ops.some((o) => o.op === 'mount' && o.source === join(dir, 'hostfile')), false);
  });

  it('without a mount namespace mounts nothing, chroots into the rootfs and says what it left out', () => {
    const noMnt = (s: Spec) => (s.linux!.namespaces = [{ type: 'pid' }]);
    const ops = planInit(input(noMnt)).ops;
    assert.equal(ops.some((o) => o.op === 'mount' || o.op === 'pivotRoot' || o.op === 'rootfsOpen'), false);
    const chroot = indexOf(ops, (o) => o.op === 'chroot');
    assert.deepEqual(ops.slice(chroot - 1, chroot + 2), [
      { op: 'chdir', path: rootfs },
      { op: 'chroot', path: '.' },
      { op: 'chdir', path: '/' },
    ]);
    assert.equal(goferRoot(ops), rootfs);
    const spec = defaultSpec({});
    noMnt(spec);
    assert.match(planWarnings(spec).join('\n'), /no mount namespace: mounts, linux\.maskedPaths, linux\.readonlyPaths, root\.readonly not applied/);
    assert.deepEqual(planWarnings(defaultSpec({})), []);
  });
});
