// Sandboxes (pods): a root "pause" container and CRI-annotated children that join its namespaces and cgroup;
// OOM scores across the sandbox follow gVisor's rules, also under concurrent creates.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, isRoot } from '../helpers/runts.js';
import type { Spec } from '../../src/oci/types.js';
import { Store } from '../../src/persistence/store.js';
import { nativePort } from '../../src/native/index.js';

const skip = isRoot ? false : 'needs root: real containers';
const TYPE = 'io.kubernetes.cri.container-type';
const SANDBOX = 'io.kubernetes.cri.sandbox-id';
const oom = (pid: number) => Number(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8'));
const goferOf = (root: string, id: string) => {
  const store = Store.open(root, nativePort());
  try {
    return store.get(id)!.facts.goferPid;
  } finally {
    store.close();
  }
};

describe('sandboxes', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  const pause = () => {
    const id = sb.id('pod');
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['/bin/sleep', '100000'];
      s.annotations = { [TYPE]: 'sandbox' };
      s.hostname = 'pod-host';
    });
    const r = sb.runts(['run', '--detach', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    return { id, pid: sb.state(id).pid };
  };
  const child = (podId: string, name: string, edit: (s: Spec) => void = () => undefined) => {
    const id = sb.id(name);
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['/bin/sleep', '100000'];
      s.annotations = { [TYPE]: 'container', [SANDBOX]: podId };
      delete s.linux!.cgroupsPath; // children default to a cgroup under the sandbox's
      edit(s);
    });
    return { id, bundle };
  };

  test('children join the sandbox\'s network, ipc, uts (and pid) namespaces and get a cgroup under it', () => {
    const pod = pause();
    // No pid namespace of its own asked for: it shares the sandbox's ("pod" pid mode).
    const c = child(pod.id, 'app', (s) => (s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid')));
    assert.equal(sb.runts(['create', '--bundle', c.bundle, c.id]).status, 0);
    const cpid = sb.state(c.id).pid;
    for (const ns of ['net', 'ipc', 'uts', 'pid']) assert.equal(readlinkSync(`/proc/${cpid}/ns/${ns}`), readlinkSync(`/proc/${pod.pid}/ns/${ns}`), ns);
    assert.notEqual(readlinkSync(`/proc/${cpid}/ns/mnt`), readlinkSync(`/proc/${pod.pid}/ns/mnt`), 'own mount namespace');
    const cg = readFileSync(`/proc/${cpid}/cgroup`, 'utf8').match(/:memory:(.*)$/m)![1];
    const podCg = readFileSync(`/proc/${pod.pid}/cgroup`, 'utf8').match(/:memory:(.*)$/m)![1];
    assert.equal(cg, `${podCg}/${c.id}`);
    assert.equal(sb.state(c.id).sandbox, pod.id);
    assert.match(sb.runts(['list']).stdout, new RegExp(`${c.id}\\s.*\\s${pod.id}\\s*$`, 'm'));

    // Destroying the sandbox brings the child down; the child's record goes to stopped and deletes cleanly.
    assert.equal(sb.runts(['delete', '--force', pod.id]).status, 0);
    assert.equal(sb.state(c.id).status, 'stopped');
    assert.equal(sb.runts(['delete', c.id]).status, 0);
    assert.equal(existsSync(join('/sys/fs/cgroup/memory', podCg)), false);
  });

  test('a child of a sandbox that does not exist is refused', () => {
    const c = child('no-such-pod', 'orphan');
    const r = sb.runts(['create', '--bundle', c.bundle, c.id]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /sandbox "no-such-pod" of container .* does not exist/);
  });

  test('OOM scores: the sandbox init gets the lowest child score, and reverts to its parent\'s after the last', () => {
    const pod = pause();
    const parentScore = oom(Number(readFileSync(`/proc/${pod.pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]));
    const a = child(pod.id, 'a', (s) => (s.process!.oomScoreAdj = 300));
    const b = child(pod.id, 'b', (s) => (s.process!.oomScoreAdj = 700));
    assert.equal(sb.runts(['create', '--bundle', b.bundle, b.id]).status, 0);
    assert.equal(oom(pod.pid), 700, 'after creating b');
    assert.equal(sb.runts(['create', '--bundle', a.bundle, a.id]).status, 0);
    assert.equal(oom(pod.pid), 300, 'after creating a');
    assert.equal(oom(sb.state(a.id).pid), 300, 'each container keeps its own score');
    // Each gofer gets its own container's score.
    assert.equal(oom(goferOf(sb.root, a.id)), 300, 'gofer of a');
    assert.equal(oom(goferOf(sb.root, b.id)), 700, 'gofer of b');
    assert.equal(sb.runts(['start', a.id]).status, 0);
    assert.equal(sb.runts(['start', b.id]).status, 0);
    assert.equal(oom(pod.pid), 300, 'after starting both');
    assert.equal(sb.runts(['delete', '--force', a.id]).status, 0);
    assert.equal(oom(pod.pid), 700, 'after deleting a');
    assert.equal(sb.runts(['delete', '--force', b.id]).status, 0);
    assert.equal(oom(pod.pid), parentScore, 'after deleting the last: the parent\'s score');
  });

  test('8 concurrent child creates give the same final score as sequential ones', async () => {
    const scores = [900, 400, 650, 200, 800, 350, 500, 750];
    const sequential = pause();
    for (const [i, score] of scores.entries()) {
      const c = child(sequential.id, `seq${i}`, (s) => (s.process!.oomScoreAdj = score));
      assert.equal(sb.runts(['create', '--bundle', c.bundle, c.id]).status, 0);
    }
    const concurrent = pause();
    const kids = scores.map((score, i) => child(concurrent.id, `par${i}`, (s) => (s.process!.oomScoreAdj = score)));
    const results = await Promise.all(kids.map((c) => sb.runtsAsync(['create', '--bundle', c.bundle, c.id])));
    assert.deepEqual(results.map((r) => r.status), scores.map(() => 0), results.map((r) => r.stderr).join(''));
    assert.equal(oom(sequential.pid), 200);
    assert.equal(oom(concurrent.pid), oom(sequential.pid));
  });
});
