import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { ContainerHost } from '../../src/actors/host.js';
import type { ContainerEnv, LiveFacts } from '../../src/actors/ports.js';
import type { Observer } from '../../src/actors/reconcile.js';
import { FakeSyscallPort } from '../helpers/fake-port.js';
import type { Hook } from '../../src/oci/types.js';
import { Store, StoreError } from '../../src/persistence/store.js';
import { recordExit } from '../../src/actors/record-exit.js';
import { updateContainer } from '../../src/actors/effects/update-container.js';
import { nativePort } from '../../src/native/index.js';

/** A host on a real store in a temp dir, with fake ports; no container process exists, the creators are gone. */
function fakeHost(over: { observer?: Observer; openCgroup?: ContainerEnv['ports']['cgroups']['open'] } = {}) {
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
        open: over.openCgroup ?? (() => assert.fail('a shared cgroup is never opened')),
        views: () => [],
        cgroupsOf: () => ({ '': '/' }),
      },
      hooks: {
        run: async (point, hooks) => void hooksRun.push({ point, hooks }),
        runBestEffort: async (point, hooks) => void hooksRun.push({ point, hooks }),
      },
      stopWaiter: { wait: async () => ({ stopped: true, remaining: [], detection: 'none' }) as never },
    },
  };
  const observer: Observer = over.observer ?? { isAlive: () => false, initState: () => 'gone', freezerState: () => null };
  return { store, host: new ContainerHost(env, store, observer), hooksRun };
}

function factsOf(id: string, spec: object = { ociVersion: '1.2.0', root: { path: 'rootfs' } }): LiveFacts {
  return {
    id, bundle: '/b', rootfs: '/b/rootfs', sandboxId: id, initPid: 0, initStartTime: null, goferPid: 0,
    cgroupPath: `/runts/${id}`, cgroupShared: true, created: new Date().toISOString(), owner: 'root', annotations: {},
    creatorPid: 999_999, creatorStartTime: null, spec,
  } as unknown as LiveFacts;
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
    assert.deepEqual((store.get('c1')!.facts as LiveFacts).spec.hooks?.poststop, poststop);
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
    // b changes status under the batch (another writer recorded it abandoned): its item is refused.
    const stale = store.get('b', { withSpec: false })!;
    await host.dispatch(store.get('b')!, { type: 'observed.abandoned' });
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
    assert.deepEqual([context('b').value, context('b').context.exitStatus], [{ stopped: 'idle' }, null], 'the stale item wrote nothing');
    assert.deepEqual([context('c').value, context('c').context.exitStatus], [{ stopped: 'idle' }, 0]);
    assert.deepEqual(store.history('a').map((t) => `${t.from}>${t.to}:${t.exitStatus}`), ['>creating.pending:undefined', 'creating.pending>stopped.idle:137']);
  });
});

// A dispatch that lost its compare-and-set to a write that changed neither status nor facts (an exec recording
// itself while this resume thawed it) is written on top of it; one that lost to a real change fails.
describe('a lost compare-and-set', () => {
  const { store, host } = fakeHost();

  it('is written again on top of a write that changed neither the status nor the facts', async () => {
    host.insert(factsOf('r1'));
    const read = store.get('r1')!;
    const other = store.update('r1', read.version, { snapshot: read.snapshot }, []); // same status, same facts
    assert.equal(other.version, read.version + 1);
    const settled = await host.dispatch(read, { type: 'observed.abandoned' });
    assert.equal(settled.status, 'stopped');
    assert.deepEqual((store.get('r1')!.snapshot as { value: unknown }).value, { stopped: 'idle' });
  });

  it('fails when the other write changed the facts', async () => {
    host.insert(factsOf('r2'));
    const read = store.get('r2')!;
    store.update('r2', read.version, { facts: { ...read.facts, initPid: 4242 } as never }, []);
    await assert.rejects(host.dispatch(read, { type: 'observed.abandoned' }), /changed concurrently/);
    assert.deepEqual((store.get('r2')!.snapshot as { value: unknown }).value, { creating: 'pending' });
  });
});

// A command the chart refuses leaves a trace: a history entry from the state to itself with the reason, appended to
// the log only, so the record's version (the compare-and-set of every other writer) does not move.
describe('a refused command', () => {
  const { store, host } = fakeHost();

  it('is logged as a refusal without moving the record\'s version', async () => {
    host.insert(factsOf('ref'));
    await host.refresh(store.get('ref')!); // the creator is gone: abandoned, stopped.idle
    const before = store.get('ref')!;
    await assert.rejects(host.dispatch(before, { type: 'container.start' }), /cannot start container "ref" in state stopped/);
    const last = store.history('ref').at(-1)!;
    assert.deepEqual(
      { from: last.from, to: last.to, event: last.event, pid: last.pid, refused: last.refused },
      { from: 'stopped.idle', to: 'stopped.idle', event: 'container.start', pid: process.pid, refused: { code: 'bad_state', reason: 'cannot start container "ref" in state stopped' } },
    );
    assert.equal(store.get('ref')!.version, before.version, 'the record itself is untouched');
    // A writer that read the record before the refusal still wins its compare-and-set, and its entry follows.
    store.update('ref', before.version, { snapshot: before.snapshot }, [{ id: 'ref', from: 'stopped.idle', to: 'stopped.idle', event: 'x', time: '', pid: 1 }]);
    assert.deepEqual(store.history('ref').slice(-2).map((t) => [t.seq, t.event]), [[last.seq, 'container.start'], [last.seq + 1, 'x']]);
  });

  it('is not logged for a refused observation (a second exit report is routine)', async () => {
    host.insert(factsOf('obs'));
    await host.refresh(store.get('obs')!);
    const length = store.history('obs').length;
    await assert.rejects(host.dispatch(store.get('obs')!, { type: 'observed.abandoned' }), /cannot/);
    assert.equal(store.history('obs').length, length);
  });

  it('a refusal is never appended to a deleted container\'s log', () => {
    assert.equal(store.appendHistory('never-was', [{ id: 'never-was', from: 'a', to: 'a', event: 'e', time: '', pid: 1 }]), false);
    assert.deepEqual(store.history('never-was'), []);
  });
});

// A lost compare-and-set is told by its code ('conflict'), never by its message: the writers that retry it (the exit
// recorder, a reconcile) must retry whatever the message says.
describe('a store conflict', () => {
  /** Makes the store's next update lose its compare-and-set once, with a message no one matches on. */
  function loseNextWrite(store: Store): void {
    const update = store.update.bind(store);
    let lost = false;
    store.update = (id, version, next, transitions) => {
      if (!lost) {
        lost = true;
        throw new StoreError('conflict', `record ${id} moved under us`);
      }
      return update(id, version, next, transitions);
    };
  }

  it('is retried by the exit recorder, which then records the exit', async () => {
    const { store, host } = fakeHost();
    host.insert({ ...factsOf('x1'), initPid: 4242 });
    loseNextWrite(store);
    assert.equal(await recordExit(host, store, 'x1', 4242, 137), true);
    const snapshot = store.get('x1')!.snapshot as { value: unknown; context: { exitStatus: number | null } };
    assert.deepEqual([snapshot.value, snapshot.context.exitStatus], [{ stopped: 'idle' }, 137]);
  });

  it('is retried by a reconcile (refresh)', async () => {
    const { store, host } = fakeHost();
    host.insert(factsOf('x2'));
    loseNextWrite(store);
    // The creator is gone (fakeHost's observer): the reconcile records the abandoned create.
    assert.equal((await host.refresh(store.get('x2')!)).status, 'stopped');
  });
});

// Effects hand back what they changed (the actor's output, merged by the chart's onDone); the host stores it.
describe('an effect that returns its result', () => {
  it('update: the merged spec is the effect’s patch, applied by the chart and stored by the host', async () => {
    const applied: object[] = [];
    const { store, host } = fakeHost({
      observer: { isAlive: () => true, initState: () => 'waiting', freezerState: () => 'THAWED' },
      openCgroup: () => ({ apply: (r: object) => (applied.push(r), []) }) as never,
    });
    const inserted = host.insert({ ...factsOf('u1', { ociVersion: '1.2.0', root: { path: 'rootfs' }, linux: { resources: { pids: { limit: 10 } } } }), initPid: 4242 });
    const created = { ...(inserted.snapshot as object), value: { created: 'idle' } };
    store.update('u1', inserted.version, { snapshot: created });
    const settled = await host.dispatch(store.get('u1')!, { type: 'container.update' }, { update: { memory: { limit: 1 << 20 } } });
    assert.equal(settled.status, 'created');
    assert.deepEqual(applied, [{ memory: { limit: 1 << 20 } }]);
    const want = { pids: { limit: 10 }, memory: { limit: 1 << 20 } };
    assert.deepEqual(settled.facts.spec.linux?.resources, want);
    assert.deepEqual(store.get('u1')!.facts.spec?.linux?.resources, want);
    const { context } = store.get('u1')!.snapshot as { context: object };
    assert.equal('dispatch' in context, false, 'the facts and request lent to the chart are not stored with its snapshot');
  });

  it('updateContainer returns the new spec and leaves the facts it was given alone', () => {
    const facts = Object.freeze({ ...factsOf('u2', { ociVersion: '1.2.0', root: { path: 'rootfs' } }) });
    const env = { log: pino({ level: 'silent' }), ports: { cgroups: { open: () => ({ apply: () => [] }) } } } as unknown as ContainerEnv;
    const patch = updateContainer(facts, env, { pids: { limit: 5 } });
    assert.deepEqual(patch.spec.linux?.resources, { pids: { limit: 5 } });
    assert.equal(facts.spec.linux, undefined);
  });
});
