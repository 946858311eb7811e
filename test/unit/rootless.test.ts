// runts without root (README "Without root"): the state root rule, how the id maps are written, the limits brought
// within the user's, and the init's plan for a user namespace made without root. Pure: plans are built, never spawned.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { checkStateRootOwner, defaultStateRoot, StateRootError } from '../../src/state-root.js';
import { parseHardLimits, rootlessIdMapping, rootlessProcessLimits, type RootlessHost } from '../../src/linux/rootless.js';
import { planInit } from '../../src/linux/plan-init.js';
import { PlanError, RLIMIT, decodePlan } from '../../src/native/plan.js';
import { defaultSpec } from '../../src/oci/default-spec.js';
import type { Spec } from '../../src/oci/types.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max processes             63000                63000                processes
Max realtime timeout      unlimited            unlimited            us
`;

const host = (o: Partial<RootlessHost> = {}): RootlessHost => ({
  euid: 1001,
  egid: 1001,
  hardLimits: parseHardLimits(LIMITS),
  oomScoreAdj: 100,
  newuidmap: '/usr/bin/newuidmap',
  newgidmap: '/usr/bin/newgidmap',
  ...o,
});

function rootlessSpec(edit: (s: Spec) => void = () => undefined): Spec {
  const s = defaultSpec({ rootless: true });
  s.linux!.uidMappings = [{ containerID: 0, hostID: 1001, size: 1 }];
  s.linux!.gidMappings = [{ containerID: 0, hostID: 1001, size: 1 }];
  edit(s);
  return s;
}

describe('the state root without root', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'runts-rootless-unit-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is /run/runts for root, $XDG_RUNTIME_DIR/runts for a user, and never root\'s for a user without XDG_RUNTIME_DIR', () => {
    assert.equal(defaultStateRoot({ XDG_RUNTIME_DIR: '/run/user/0' }, 0, false), '/run/runts');
    assert.equal(defaultStateRoot({ XDG_RUNTIME_DIR: '/run/user/1001' }, 1001, false), '/run/user/1001/runts');
    assert.throws(() => defaultStateRoot({}, 1001, false), (e: Error) => e instanceof StateRootError && /^XDG_RUNTIME_DIR is not set .* or pass --root <dir>$/.test(e.message));
    assert.throws(() => defaultStateRoot({ XDG_RUNTIME_DIR: 'relative' }, 1001, false), StateRootError);
    // Root of a user namespace (rootless Podman's runtime): the user's runtime dir when it has one.
    assert.equal(defaultStateRoot({ XDG_RUNTIME_DIR: '/run/user/1001' }, 0, true), '/run/user/1001/runts');
    assert.equal(defaultStateRoot({}, 0, true), '/run/runts');
  });

  it('must be the user\'s own and writable by no one else', { skip: process.getuid?.() === 0 ? false : 'needs root (chown)' }, () => {
    const mine = join(dir, 'mine');
    mkdirSync(mine, { mode: 0o700 });
    chownSync(mine, 1001, 1001);
    checkStateRootOwner(mine, 1001);
    checkStateRootOwner(mine, 0); // root chooses
    assert.throws(() => checkStateRootOwner(mine, 1002), /owned by uid 1001 with mode 700: without root, runts only uses a state root of your own/);
    chmodSync(mine, 0o770);
    assert.throws(() => checkStateRootOwner(mine, 1001), /mode 770/);
  });
});

describe('id maps without root', () => {
  it('writes the caller\'s own ids itself (setgroups denied first) and anything more through newuidmap/newgidmap', () => {
    assert.deepEqual(rootlessIdMapping(rootlessSpec(), host()), { setgroups: 'deny' });
    const sub = rootlessSpec((s) => {
      s.linux!.uidMappings!.push({ containerID: 1, hostID: 100000, size: 65536 });
      s.linux!.gidMappings!.push({ containerID: 1, hostID: 100000, size: 65536 });
    });
    assert.deepEqual(rootlessIdMapping(sub, host()), { uidMapper: '/usr/bin/newuidmap', gidMapper: '/usr/bin/newgidmap' });
    // Someone else's uid, even one: only newuidmap may decide.
    const foreign = rootlessSpec((s) => (s.linux!.uidMappings = [{ containerID: 0, hostID: 0, size: 1 }]));
    assert.deepEqual(rootlessIdMapping(foreign, host()), { setgroups: 'deny', uidMapper: '/usr/bin/newuidmap' });
    assert.throws(() => rootlessIdMapping(sub, host({ newuidmap: undefined })), (e: Error) => e instanceof PlanError && /needs newuidmap \(install the uidmap package\) and ranges in \/etc\/subuid/.test(e.message));
    // Root of a user namespace writes them itself.
    assert.deepEqual(rootlessIdMapping(sub, host({ euid: 0, egid: 0 })), {});
  });
});

describe('limits without root', () => {
  it('lowers rlimits to the user\'s hard limit and raises oom_score_adj to the user\'s, with a warning each', () => {
    const spec = rootlessSpec((s) => {
      s.process!.rlimits = [
        { type: 'RLIMIT_NOFILE', soft: 1048576, hard: 1048576 },
        { type: 'RLIMIT_NPROC', soft: 100, hard: 200 },
        { type: 'RLIMIT_CPU', soft: 5, hard: 10 },
      ];
      s.process!.oomScoreAdj = -500;
    });
    const { spec: out, warnings } = rootlessProcessLimits(spec, host());
    assert.deepEqual(out.process!.rlimits, [
      { type: 'RLIMIT_NOFILE', soft: 524288, hard: 524288 },
      { type: 'RLIMIT_NPROC', soft: 100, hard: 200 },
      { type: 'RLIMIT_CPU', soft: 5, hard: 10 },
    ]);
    assert.equal(out.process!.oomScoreAdj, 100);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], /RLIMIT_NOFILE .* above your hard limit 524288/);
    assert.equal(spec.process!.oomScoreAdj, -500, 'the stored config is not changed');
    const within = rootlessSpec((s) => (s.process!.oomScoreAdj = 200));
    assert.equal(rootlessProcessLimits(within, host()).spec, within);
  });

  it('reads the hard limits of /proc/self/limits', () => {
    const m = parseHardLimits(LIMITS);
    assert.equal(m.get(RLIMIT.RLIMIT_NOFILE), 524288n);
    assert.equal(m.get(RLIMIT.RLIMIT_CPU), 0xffffffffffffffffn);
    assert.equal(m.get(RLIMIT.RLIMIT_RTTIME), 0xffffffffffffffffn);
  });
});

describe('the init plan without root', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'runts-rootless-plan-'));
    mkdirSync(join(dir, 'rootfs'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const plan = (spec: Spec, rootless = rootlessIdMapping(spec, host())) =>
    decodePlan(
      planInit({
        spec,
        rootfs: join(dir, 'rootfs'),
        bundle: dir,
        cgroupProcsFiles: [],
        cgroupViews: [],
        fifoPath: join(dir, 'exec.fifo'),
        gofer: { binary: '/opt/runts-gofer', socketPath: join(dir, 'gofer.sock') },
        rootless,
      }).encode(),
    );

  it('carries the mappers in the header, binds devices and sources by path, and leaves the groups alone when setgroups is denied', () => {
    const { header, ops } = plan(rootlessSpec());
    assert.deepEqual(header, { uidMap: '0 1001 1\n', gidMap: '0 1001 1\n', setgroups: 'deny' });
    assert.equal(ops.some((o) => o.op === 'sourceOpen' || o.op === 'mountSource' || o.op === 'mknod'), false);
    assert.ok(ops.some((o) => o.op === 'mount' && o.source === '/dev/null' && o.target === '/dev/null'));
    assert.ok(ops.some((o) => o.op === 'mount' && o.source === '/sys' && o.target === '/sys'), 'the rootless spec binds /sys');
    const ids = ops.filter((o) => o.op === 'setIds');
    assert.deepEqual(ids.at(-1), { op: 'setIds', uid: 0, gid: 0, groups: null });
    const sub = rootlessSpec((s) => {
      s.linux!.uidMappings!.push({ containerID: 1, hostID: 100000, size: 65536 });
      s.linux!.gidMappings!.push({ containerID: 1, hostID: 100000, size: 65536 });
      s.process!.user = { uid: 1000, gid: 1000, additionalGids: [1001] };
    });
    const mapped = plan(sub);
    assert.equal(mapped.header.uidMapper, '/usr/bin/newuidmap');
    assert.equal(mapped.header.setgroups, undefined);
    assert.deepEqual(mapped.ops.filter((o) => o.op === 'setIds').at(-1), { op: 'setIds', uid: 1000, gid: 1000, groups: [1001] });
  });

  it('refuses additionalGids when only the caller\'s gid is mapped', () => {
    const spec = rootlessSpec((s) => (s.process!.user = { uid: 0, gid: 0, additionalGids: [5] }));
    assert.throws(() => plan(spec), (e: Error) => e instanceof PlanError && /additionalGids cannot be set in a user namespace that maps only your own gid/.test(e.message));
  });
});
