// Races (issue 7): concurrent runts processes on one container, or many containers at once, always end in a
// consistent state, with no crash and nothing leaked.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Sandbox, assertNoLeftovers, cgroupHierarchies, eventually, isRoot, processesRootedAt } from '../helpers/runts.js';
import { existsSync, readdirSync } from 'node:fs';

const skip = isRoot ? false : 'needs root: real containers';
const STATUSES = ['created', 'running', 'paused', 'stopped'];

/** Runs `tasks` with at most `limit` in flight. */
async function inParallel<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]();
      }
    }),
  );
  return results;
}

describe('races', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  test('16 concurrent creates of one ID: exactly one wins', async () => {
    const id = sb.id('race16');
    const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sleep', '1000']));
    const results = await Promise.all(Array.from({ length: 16 }, () => sb.runtsAsync(['create', '--bundle', bundle, id])));
    assert.equal(results.filter((r) => r.status === 0).length, 1, results.map((r) => r.stderr).join(''));
    for (const r of results.filter((r) => r.status !== 0)) assert.match(r.stderr, new RegExp(`container "${id}" already exists`));
    assert.equal(sb.state(id).status, 'created');
    assert.equal(sb.runts(['delete', '--force', id]).status, 0);
    assertNoLeftovers(sb, id, bundle);
  });

  test('concurrent kill, pause and delete of one container: a consistent end, no crash', async () => {
    for (let round = 0; round < 3; round++) {
      const id = sb.id('kpd');
      const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sleep', '1000']));
      assert.equal(sb.runts(['run', '--detach', '--bundle', bundle, id]).status, 0);
      const results = await Promise.all([
        sb.runtsAsync(['kill', id, 'KILL']),
        sb.runtsAsync(['pause', id]),
        sb.runtsAsync(['delete', '--force', id]),
        sb.runtsAsync(['pause', id]),
        sb.runtsAsync(['kill', id, 'TERM']),
      ]);
      for (const r of results) {
        // Either it worked, or it failed with one clear line (never a stack trace or a signal death).
        assert.equal(r.signal, null);
        if (r.status !== 0) assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.doesNotMatch(r.stderr, /TypeError|ReferenceError|at .*\.js:\d+/);
      }
      const st = sb.runts(['state', id]);
      if (st.status === 0) assert.ok(STATUSES.includes(JSON.parse(st.stdout).status));
      else assert.match(st.stderr, /does not exist/);
      const del = sb.runts(['delete', '--force', id]);
      assert.ok(del.status === 0 || /does not exist/.test(del.stderr), del.stderr);
      assert.ok(await eventually(() => processesRootedAt(join(bundle, 'rootfs')).length === 0));
      assertNoLeftovers(sb, id, bundle);
    }
  });

  test('100 containers created and deleted in parallel', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => sb.id(`many${i}`));
    // One rootfs for all (read-only): 100 copies would only test the disk.
    const shared = sb.bundle('many-shared', (s) => {
      s.process!.args = ['/bin/sleep', '1000'];
      s.root!.readonly = true;
    });
    const bundles = ids.map((id) => sb.bundleFrom(shared, id));
    const created = await inParallel(ids.map((id, i) => () => sb.runtsAsync(['run', '--detach', '--bundle', bundles[i], id])), 16);
    assert.deepEqual(created.map((r) => r.status), ids.map(() => 0), created.map((r) => r.stderr).join(''));
    const list = JSON.parse(sb.runts(['list', '--format', 'json']).stdout) as { id: string; status: string }[];
    for (const id of ids) assert.equal(list.find((s) => s.id === id)?.status, 'running', id);
    const deleted = await inParallel(ids.map((id) => () => sb.runtsAsync(['delete', '--force', id])), 16);
    assert.deepEqual(deleted.map((r) => r.status), ids.map(() => 0), deleted.map((r) => r.stderr).join(''));
    assert.ok(await eventually(() => processesRootedAt(join(shared, 'rootfs')).length === 0, 10_000));
    assert.deepEqual(JSON.parse(sb.runts(['list', '--format', 'json']).stdout).filter((s: { id: string }) => ids.includes(s.id)), []);
    for (const h of cgroupHierarchies()) {
      const parent = join(h, sb.cgroupParent);
      const left = existsSync(parent) ? readdirSync(parent).filter((n) => ids.includes(n)) : [];
      assert.deepEqual(left, [], `cgroups left in ${h}`);
    }
  });
});
