import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ContainerHost } from '../../src/actors/host.js';
import type { ContainerEnv, LiveContainer } from '../../src/actors/ports.js';
import type { Observer } from '../../src/actors/reconcile.js';
import { FakeSyscallPort } from '../helpers/fake-port.js';
import type { Hook } from '../../src/oci/types.js';
import { Store } from '../../src/persistence/store.js';
import { nativePort } from '../../src/native/index.js';

/** A host on a real store in a temp dir, with fake ports; no container process exists, the creators are gone. */
function fakeHost() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-host-'));
  const store = Store.open(root, nativePort());
  after(() => {
    store.close();
    fs.rmSync(root, { recursive: true, force: true });
  });
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
  const observer: Observer = { isAlive: () => false, initState: () => 'gone', freezerState: () => null };
  return { store, host: new ContainerHost(env, store, observer), hooksRun };
}

function factsOf(id: string, spec: object = { ociVersion: '1.2.0', root: { path: 'rootfs' } }): LiveContainer['facts'] {
  return {
    id, bundle: '/b', rootfs: '/b/rootfs', sandboxId: id, initPid: 0, initStartTime: null, goferPid: 0,
    cgroupPath: `/runts/${id}`, cgroupShared: true, created: new Date().toISOString(), owner: 'root', annotations: {},
    creatorPid: 999_999, creatorStartTime: null, spec,
  } as unknown as LiveContainer['facts'];
}

// Exits are recorded from a record read without its spec (Store.get withSpec false: half the read, no spec
// rewritten). The chart may still run an effect from such a record; the effect must get the stored spec.
describe('dispatching a record read without its spec', () => {
  const { store, host, hooksRun } = fakeHost();
  const poststop: Hook[] = [{ path: '/bin/true', args: ['true', 'poststop-of-the-stored-spec'] }];
  const facts = factsOf('c1', { ociVersion: '1.2.0', root: { path: 'rootfs' }, hooks: { poststop } });

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

// Most dispatches leave the spec as it is: it is written with the record only when an effect replaced it.
describe('persisting a dispatch', () => {
  const { store, host } = fakeHost();

  it('does not write the spec again when no effect replaced it', async () => {
    const spec = { ociVersion: '1.2.0', root: { path: 'rootfs' }, hostname: 'kept' };
    host.insert(factsOf('s1', spec));
    const writes: { facts?: object }[] = [];
    const update = store.update.bind(store);
    store.update = (id, version, next, transitions) => {
      writes.push(next);
      return update(id, version, next, transitions);
    };
    const settled = await host.dispatch(store.get('s1')!, { type: 'observed.abandoned' });
    assert.equal(settled.status, 'stopped');
    assert.equal(writes.length, 1);
    assert.equal('spec' in writes[0].facts!, false, 'facts written without the unchanged spec');
    assert.deepEqual(settled.facts.spec, spec, 'the caller still gets it');
    assert.deepEqual(store.get('s1')!.facts.spec, spec, 'and the store keeps it');
  });
});

// The resident host records the exits one SIGCHLD reaped with dispatchMany: one store transaction for all of them.
describe('dispatchMany', () => {
  const { store, host } = fakeHost();

  it("gives each item dispatch's own result, and one item's failure does not stop the others", async () => {
    for (const id of ['a', 'b', 'c', 'd']) host.insert(factsOf(id));
    const stale = { ...store.get('b', { withSpec: false })!, version: 7 };
    // d is already stopped: a second observed.abandoned is refused by the chart.
    await host.dispatch(store.get('d')!, { type: 'observed.abandoned' });
    const results = await host.dispatchMany([
      { record: store.get('a', { withSpec: false })!, event: { type: 'observed.exited', exitStatus: 137 } },
      { record: stale, event: { type: 'observed.exited', exitStatus: 137 } },
      { record: store.get('c', { withSpec: false })!, event: { type: 'observed.exited', exitStatus: 0 } },
      { record: store.get('d', { withSpec: false })!, event: { type: 'observed.abandoned' } },
    ]);
    assert.equal((results[0] as { status: string }).status, 'stopped');
    assert.equal((results[1] as Error).message, 'container "b" changed concurrently, retry');
    assert.equal((results[2] as { status: string }).status, 'stopped');
    assert.equal((results[3] as Error).message, 'cannot observed.abandoned container "d" in state stopped');
    const context = (id: string) => (store.get(id)!.snapshot as { value: unknown; context: { exitStatus: number | null } });
    assert.deepEqual([context('a').value, context('a').context.exitStatus], [{ stopped: 'idle' }, 137]);
    assert.deepEqual(context('b').value, { creating: 'pending' }, 'the stale item wrote nothing');
    assert.deepEqual([context('c').value, context('c').context.exitStatus], [{ stopped: 'idle' }, 0]);
    assert.deepEqual(store.history('a').map((t) => `${t.from}>${t.to}:${t.exitStatus}`), ['>creating.pending:undefined', 'creating.pending>stopped.idle:137']);
  });
});
