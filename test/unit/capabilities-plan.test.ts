// Absent means least: the capability sets an init or exec plan asks for when the config says nothing, and the
// bounding set an exec may never exceed. Pure: plans are built, never spawned (test/integration/least-privilege
// checks the same on real processes).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { execCapabilities, planExec } from '../../src/linux/plan-exec.js';
import { capabilitySets, PlanError, planProcessSetup } from '../../src/linux/plan-init.js';
import { CAPABILITIES, PlanBuilder, type PlanOp } from '../../src/native/plan.js';
import type { LinuxCapabilities, Process } from '../../src/oci/types.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'runts-caps-plan-'));
  mkdirSync(join(dir, 'rootfs'), { recursive: true });
});
after(() => rmSync(dir, { recursive: true, force: true }));

const NONE = { bounding: 0n, effective: 0n, permitted: 0n, inheritable: 0n, ambient: 0n };

function capsOp(ops: PlanOp[]): Extract<PlanOp, { op: 'caps' }> | undefined {
  return ops.find((o): o is Extract<PlanOp, { op: 'caps' }> => o.op === 'caps');
}

function setupOps(process: Process): PlanOp[] {
  const plan = new PlanBuilder();
  planProcessSetup(plan, process, join(dir, 'rootfs'), { terminal: false });
  return plan.ops;
}

describe('capability sets when the config has none', () => {
  it('no process.capabilities: all five sets empty (the bounding set too), as runc', () => {
    assert.deepEqual(capabilitySets(undefined), NONE);
    const op = capsOp(setupOps({ cwd: '/', args: ['/bin/sh'], user: { uid: 0, gid: 0 } }));
    assert.ok(op, 'a caps op even without process.capabilities: root would otherwise keep every capability');
    assert.deepEqual({ ...op, op: undefined }, { ...NONE, op: undefined });
  });

  it('an absent set inside process.capabilities is empty', () => {
    const sets = capabilitySets({ bounding: ['CAP_KILL'] });
    assert.deepEqual(sets, { ...NONE, bounding: 1n << 5n });
  });

  it('an exec plan drops to the sets it is given (none: empty)', () => {
    const ops = planExec({ initPid: 4242, namespaces: [{ type: 'pid' }], cgroupProcsFiles: [], process: { cwd: '/', args: ['/bin/sh'], user: { uid: 0, gid: 0 } }, rootfs: join(dir, 'rootfs') }).ops;
    const op = capsOp(ops);
    assert.ok(op);
    assert.equal(op.bounding, 0n);
    assert.equal(op.effective, 0n);
  });
});

describe('execCapabilities: the container\'s sets by default, never beyond its bounding set', () => {
  const container: LinuxCapabilities = {
    bounding: ['CAP_KILL', 'CAP_CHOWN', 'CAP_NET_BIND_SERVICE'],
    effective: ['CAP_KILL'],
    permitted: ['CAP_KILL'],
  };

  it('a process without capabilities gets the container\'s', () => {
    assert.deepEqual(execCapabilities('web', undefined, container), container);
  });

  it('a container without capabilities gives an exec none', () => {
    assert.deepEqual(execCapabilities('web', undefined, undefined), {});
  });

  it('asking for capabilities inside the bounding set is allowed (exec --cap of a bounded but not effective one)', () => {
    const asked = { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'] };
    assert.deepEqual(execCapabilities('web', asked, container), asked);
  });

  it('asking for one outside the bounding set is refused, naming it and the fix', () => {
    const err = refusal(() => execCapabilities('web', { bounding: ['CAP_KILL'], effective: ['CAP_SYS_ADMIN'] }, container));
    assert.equal(
      err.message,
      'exec in container "web" asks for CAP_SYS_ADMIN, outside the container\'s bounding set: drop them (--cap, process.capabilities, exec --privileged), or create the container with them',
    );
  });

  it('Docker\'s exec --privileged (every capability) is refused with a short message', () => {
    const all = Object.keys(CAPABILITIES);
    const err = refusal(() => execCapabilities('web', { bounding: all, effective: all, permitted: all }, container));
    assert.match(err.message, /^exec in container "web" asks for CAP_AUDIT_CONTROL, CAP_AUDIT_READ, CAP_AUDIT_WRITE, CAP_BLOCK_SUSPEND and \d+ more, outside/);
    assert.ok(!err.message.includes('\n'));
  });

  it('any set counts: an ambient or inheritable capability outside the bounding set is refused too', () => {
    refusal(() => execCapabilities('web', { inheritable: ['CAP_SYS_ADMIN'] }, container));
    refusal(() => execCapabilities('web', { ambient: ['CAP_SYS_ADMIN'] }, container));
    refusal(() => execCapabilities('web', { effective: ['CAP_KILL'] }, undefined));
  });

  it('an unknown name is named as unknown', () => {
    const err = refusal(() => execCapabilities('web', { effective: ['CAP_FLY'] }, container));
    assert.equal(err.message, 'unknown capability "CAP_FLY": use names like CAP_CHOWN');
  });
});

function refusal(fn: () => unknown): PlanError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PlanError, String(e));
    assert.equal(e.code, 'bad_config');
    return e;
  }
  assert.fail('was not refused');
}
