// runc's exec flags beyond the process settings: --ignore-paused (an exec into a paused container, frozen until
// resume, never blocking the container's other operations) and --cgroup (start in a sub-cgroup of the container's).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, assertNoLeftovers, eventually, isRoot } from '../helpers/runts.js';

const skip = isRoot ? false : 'needs root: real containers';

describe('exec --ignore-paused', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  const freezer = (id: string) => join('/sys/fs/cgroup/freezer', sb.cgroupParent, id);
  const procs = (id: string) => readFileSync(join(freezer(id), 'cgroup.procs'), 'utf8').trim().split('\n').filter(Boolean);

  const paused = () => {
    const id = sb.id('ip');
    const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sleep', '1000']));
    assert.equal(sb.runts(['run', '--detach', '--bundle', bundle, id]).status, 0);
    assert.equal(sb.runts(['pause', id]).status, 0);
    return { id, bundle };
  };

  test('without the flag a paused container refuses the exec and says how to ask', () => {
    const { id } = paused();
    const r = sb.runts(['exec', id, 'true']);
    assert.equal(r.status, 255);
    assert.match(r.stderr, /cannot exec container "[^"]+" in state paused: resume it first, or pass --ignore-paused/);
  });

  test('the process joins the frozen cgroup, stays frozen, and runs once another runts resumes the container', async () => {
    const { id, bundle } = paused();
    const exec = sb.runtsAsync(['exec', '--ignore-paused', id, 'sh', '-c', 'echo ran > /ran; echo out']);
    // The exec's process is in the container's (frozen) cgroup, beside the init.
    assert.ok(await eventually(() => procs(id).length >= 2, 10_000), 'the exec process joined the cgroup');
    assert.equal(existsSync(join(bundle, 'rootfs/ran')), false, 'frozen: it has not run');
    assert.equal(sb.state(id).status, 'paused');
    // Not blocked by the exec in flight: resume (another runts process) goes through and is recorded.
    const resumed = sb.runts(['resume', id], { timeoutMs: 10_000 });
    assert.equal(resumed.status, 0, resumed.stderr);
    const r = await exec;
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.equal(readFileSync(join(bundle, 'rootfs/ran'), 'utf8'), 'ran\n');
    assert.equal(sb.state(id).status, 'running');
  });

  test('kill and delete --force of the paused container are not blocked by the exec in flight', async () => {
    const { id, bundle } = paused();
    const exec = sb.runtsAsync(['exec', '--ignore-paused', '-d', id, 'sleep', '100']);
    assert.ok(await eventually(() => procs(id).length >= 2, 10_000), 'the exec process joined the cgroup');
    assert.equal(sb.runts(['kill', id, 'KILL'], { timeoutMs: 10_000 }).status, 0);
    const del = sb.runts(['delete', '--force', id], { timeoutMs: 10_000 });
    assert.equal(del.status, 0, del.stderr);
    const r = await exec;
    assert.notEqual(r.status, 0, 'the exec never started its program');
    sb.untrack(id);
    assertNoLeftovers(sb, id, bundle);
  });
});
