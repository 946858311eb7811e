import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ContainerHost } from '../../src/actors/host.js';
import type { ContainerEnv, LiveContainer } from '../../src/actors/ports.js';
import type { Observer } from '../../src/actors/reconcile.js';
import { FakeSyscallPort } from '../../src/native/fake.js';
import type { Hook } from '../../src/oci/types.js';
import { Store } from '../../src/persistence/store.js';

// Exits are recorded from a record read without its spec (Store.get withSpec false: half the read, no spec
// rewritten). The chart may still run an effect from such a record; the effect must get the stored spec.
describe('dispatching a record read without its spec', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-host-spec-'));
  const store = Store.open(root);
  after(() => {
    store.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const poststop: Hook[] = [{ path: '/bin/true', args: ['true', 'poststop-of-the-stored-spec'] }];
  const hooksRun: { point: string; hooks: Hook[] | undefined }[] = [];
  const env: ContainerEnv = {
    root,
    log: pino({ level: 'silent' }),
    stopTimeoutMs: 1000,
    ports: {
      sys: new FakeSyscallPort(),
      cgroups: {
        resolvePath: (p, id) => p ?? `/runts/${id}`,
        open: () => assert.fail('a shared cgroup is never opened'),
        views: () => [],
        warmUpAttach: () => undefined,
      },
      hooks: {
        run: async (point, hooks) => void hooksRun.push({ point, hooks }),
        runBestEffort: async (point, hooks) => void hooksRun.push({ point, hooks }),
      },
      stopWaiter: { wait: async () => ({ stopped: true, remaining: [], detection: 'none' }) as never },
    },
  };
  // The creator is gone (so the record can be abandoned); no process of the container exists.
  const observer: Observer = { isAlive: () => false, initState: () => 'gone', freezerState: () => null };
  const host = new ContainerHost(env, store, observer);
  const facts = {
    id: 'c1', bundle: '/b', rootfs: '/b/rootfs', sandboxId: 'c1', initPid: 0, initStartTime: null, goferPid: 0,
    cgroupPath: '/runts/c1', cgroupShared: true, created: new Date().toISOString(), owner: 'root', annotations: {},
    creatorPid: 999_999, creatorStartTime: null,
    spec: { ociVersion: '1.2.0', root: { path: 'rootfs' }, hooks: { poststop } },
  } as unknown as LiveContainer['facts'];

  it('keeps the stored spec when the outcome is persisted without it', async () => {
    host.insert(facts);
    const bare = store.get('c1', { withSpec: false })!;
    assert.equal('spec' in bare.facts, false);
    const settled = await host.dispatch(bare, { type: 'observed.abandoned' });
    assert.equal(settled.status, 'stopped');
    assert.deepEqual((store.get('c1')!.facts as LiveContainer['facts']).spec.hooks?.poststop, poststop);
  });

  it('hands an effect the stored spec (delete runs the poststop hooks it names)', async () => {
    const bare = store.get('c1', { withSpec: false })!;
    assert.equal('spec' in bare.facts, false);
    const settled = await host.dispatch(bare, { type: 'container.delete', force: true });
    assert.equal(settled.record, undefined);
    assert.deepEqual(hooksRun.find((h) => h.point === 'poststop')?.hooks, poststop);
    assert.equal(store.get('c1'), undefined);
  });
});
