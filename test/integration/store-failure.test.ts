// A create whose effect worked but whose outcome could not be written to the store (here: its record vanishes
// under it, as LMDB's lost commits once made it) must undo the container it made and leave nothing behind.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Runtime } from '../../src/runtime.js';
import { nativePort } from '../../src/native/index.js';
import { isProcessAlive } from '../../src/linux/proc.js';
import type { Store } from '../../src/persistence/store.js';
import { Sandbox, assertNoLeftovers, isRoot } from '../helpers/runts.js';

describe('a create the store could not record', { skip: isRoot ? false : 'creates real containers: needs root' }, () => {
  const sb = new Sandbox();
  let rt: Runtime | undefined;
  after(async () => {
    await rt?.close();
    sb.cleanup();
  });

  test('tears down the init, gofer, cgroup and state dir it made, and fails with one line', { timeout: 60_000 }, async () => {
    const id = sb.id('unrec');
    const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sleep', '1000']));
    const real = nativePort();
    let spawned: { pid: number; goferPid: number } | undefined;
    rt = await Runtime.open({
      root: sb.root,
      ports: {
        sys: {
          ...real,
          spawnGated: (plan) => {
            const gated = real.spawnGated(plan);
            const done = gated.done.then((r) => {
              spawned = { pid: r.pid, goferPid: r.goferPid };
              // The record goes away between the spawn and the write of its outcome.
              (rt as unknown as { store: Store }).store.remove(id);
              return r;
            });
            return { ...gated, done };
          },
        },
      },
    });
    const err = await rt.create(id, { bundle }).then(
      () => assert.fail('create should fail'),
      (e: Error) => e,
    );
    assert.match(err.message, /does not exist/);
    assert.doesNotMatch(err.message, /\n/);
    assert.ok(spawned && spawned.pid > 0, 'the init was spawned');
    assert.equal(isProcessAlive(spawned.pid, null), false, 'the init is gone');
    if (spawned.goferPid > 0) assert.equal(isProcessAlive(spawned.goferPid, null), false, 'the gofer is gone');
    assertNoLeftovers(sb, id, bundle);
  });
});
