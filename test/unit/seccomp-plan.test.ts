// Where the seccomp op lands in init and exec plans (runc's rule): right before checkExec with no_new_privs, and
// before setIds/caps without it (then installing a filter needs CAP_SYS_ADMIN, which the id change drops).
// Pure: plans are built, never spawned.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { planExec } from '../../src/linux/plan-exec.js';
import { planInit } from '../../src/linux/plan-init.js';
import type { PlanOp } from '../../src/native/plan.js';
import { defaultSpec } from '../../src/oci/default-spec.js';
import type { Process, Spec } from '../../src/oci/types.js';

// ld [4]; ret ALLOW — any recognisable 8-byte-aligned program will do: the plan carries it verbatim.
const BPF = Buffer.from([0x20, 0, 0, 0, 4, 0, 0, 0, 0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]);

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'runts-seccomp-plan-'));
  mkdirSync(join(dir, 'rootfs', 'proc'), { recursive: true });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function initOps(edit: (s: Spec) => void, seccomp: Buffer | undefined): PlanOp[] {
  const spec = defaultSpec({});
  edit(spec);
  return planInit({
    spec,
    rootfs: join(dir, 'rootfs'),
    bundle: dir,
    cgroupProcsFiles: [],
    cgroupViews: [],
    fifoPath: '/run/runts/c/exec.fifo',
    gofer: { binary: '/opt/runts-gofer', socketPath: '/run/runts/c/gofer.sock' },
    seccomp,
  }).ops;
}

function execOps(process: Process, seccomp: Buffer | undefined): PlanOp[] {
  return planExec({ initPid: 4242, namespaces: [{ type: 'pid' }, { type: 'mount' }], cgroupProcsFiles: [], process, rootfs: join(dir, 'rootfs'), seccomp }).ops;
}

const names = (ops: PlanOp[]) => ops.map((o) => o.op);
const at = (ops: PlanOp[], name: string): number => {
  const i = names(ops).indexOf(name as PlanOp['op']);
  assert.notEqual(i, -1, `no ${name} op`);
  return i;
};

describe('seccomp op placement: init', () => {
  it('with no_new_privs: after setIds, caps and no_new_privs, right before checkExec (which precedes ready, the fifo wait and exec)', () => {
    const ops = initOps((s) => (s.process!.noNewPrivileges = true), BPF);
    const i = at(ops, 'seccomp');
    assert.deepEqual(names(ops).slice(i), ['seccomp', 'checkExec', 'ready', 'waitFifo', 'exec']);
    assert.ok(at(ops, 'setIds') < i && at(ops, 'caps') < i && at(ops, 'noNewPrivs') < i);
    assert.deepEqual((ops[i] as Extract<PlanOp, { op: 'seccomp' }>).bpf, BPF);
    assert.equal(names(ops).filter((n) => n === 'seccomp').length, 1);
  });

  it('without no_new_privs: before the ids change and the capabilities drop', () => {
    const ops = initOps((s) => (s.process!.noNewPrivileges = false), BPF);
    const i = at(ops, 'seccomp');
    assert.equal(names(ops)[i + 1], 'setIds');
    assert.ok(i < at(ops, 'caps'));
    assert.ok(at(ops, 'pivotRoot') < i, 'after the rootfs is set up');
    assert.equal(names(ops).filter((n) => n === 'seccomp').length, 1);
    assert.equal(names(ops).includes('noNewPrivs'), false);
  });

  it('no profile, no seccomp op', () => {
    assert.equal(names(initOps(() => undefined, undefined)).includes('seccomp'), false);
  });
});

describe('seccomp op placement: exec', () => {
  const base: Process = { cwd: '/', args: ['/bin/sh'], user: { uid: 1000, gid: 1000 }, capabilities: { bounding: ['CAP_KILL'], permitted: ['CAP_KILL'], effective: ['CAP_KILL'] } };

  it('with no_new_privs: right before checkExec', () => {
    const ops = execOps({ ...base, noNewPrivileges: true }, BPF);
    const i = at(ops, 'seccomp');
    assert.deepEqual(names(ops).slice(i), ['seccomp', 'checkExec', 'ready', 'exec']);
    assert.ok(at(ops, 'fork') < i, 'in the process itself, not in stage-1');
  });

  it('without no_new_privs: before setIds and caps', () => {
    const ops = execOps({ ...base, noNewPrivileges: false }, BPF);
    const i = at(ops, 'seccomp');
    assert.equal(names(ops)[i + 1], 'setIds');
    assert.ok(at(ops, 'fork') < i && i < at(ops, 'caps'));
  });

  it('no profile, no seccomp op', () => {
    assert.equal(names(execOps(base, undefined)).includes('seccomp'), false);
  });
});
