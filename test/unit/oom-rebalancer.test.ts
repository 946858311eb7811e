// The sandbox OOM rebalancer against the fake port: it reads and writes oom_score_adj (and the sandbox's parent)
// through the port, on the facts of a real store in a temp dir.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { SCHEMA_VERSION, Store } from '../../src/persistence/store.js';
import { OomRebalancer } from '../../src/workers/oom-rebalancer.js';
import { FakeSyscallPort } from '../helpers/fake-port.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-oom-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function sandbox(root: string, sys: FakeSyscallPort, initPid: number, goferPid: number, oomScoreAdj?: number): void {
  const store = Store.open(root, sys);
  const spec = { ociVersion: '1.2.0', root: { path: 'rootfs' }, process: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 }, oomScoreAdj } };
  const facts = {
    id: 's1', bundle: '/b', rootfs: '/b/rootfs', sandboxId: 's1', initPid, initStartTime: null, goferPid, cgroupPath: '/runts/s1',
    created: '', owner: 'root', annotations: {}, creatorPid: 1, creatorStartTime: null, spec,
  };
  store.insert({ facts, snapshot: { value: { running: 'idle' } }, schemaVersion: SCHEMA_VERSION, machineVersion: 'container/1' });
  store.close();
}

it("applies the container's score to its init and gofer through the port; after a destroy, the parent's", async () => {
  const sys = new FakeSyscallPort();
  const parent = sys.addProcess();
  const init = sys.addProcess({ ppid: parent });
  const gofer = sys.addProcess();
  sys.oomScores.set(parent, -300);
  const root = path.join(tmp, 'a');
  sandbox(root, sys, init, gofer, 500);
  const rebalancer = new OomRebalancer(sys);
  assert.deepEqual(await rebalancer.rebalance({ root, sandboxId: 's1', destroyed: false }), { sandboxPid: init, sandboxScore: 500, gofers: [{ pid: gofer, score: 500 }] });
  assert.deepEqual(sys.callsOf('writeOomScoreAdj'), [[init, 500], [gofer, 500]]);
  assert.ok(sys.callsOf('flock').length > 0, 'under the store lock, taken through the port');

  const root2 = path.join(tmp, 'b');
  sandbox(root2, sys, init, 0);
  const r = await new OomRebalancer(sys).rebalance({ root: root2, sandboxId: 's1', destroyed: true });
  assert.equal(r?.sandboxScore, -300, "no score left: the sandbox's parent's");
  assert.deepEqual(sys.callsOf('readOomScoreAdj'), [[parent]]);
  assert.equal(sys.oomScores.get(init), -300);
});
