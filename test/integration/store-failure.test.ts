// A create whose effect worked but whose outcome could not be written to the store (here: its record vanishes
// under it, as LMDB's lost commits once made it) must undo the container it made and leave nothing behind.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, openSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { Runtime } from '../../src/runtime.js';
import { nativePort } from '../../src/native/index.js';
import { isProcessAlive } from '../../src/linux/proc.js';
import type { Store } from '../../src/persistence/store.js';
import { Sandbox, assertNoLeftovers, cgroupHierarchies, isRoot } from '../helpers/runts.js';

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
              (rt as unknown as { ctx: { store: Store } }).ctx.store.remove(id);
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
    assert.equal(isProcessAlive(nativePort(), spawned.pid, null), false, 'the init is gone');
    if (spawned.goferPid > 0) assert.equal(isProcessAlive(nativePort(), spawned.goferPid, null), false, 'the gofer is gone');
    assertNoLeftovers(sb, id, bundle);
  });
});

// A damaged state database (runts.mdb) — garbage, truncated, emptied, a zeroed page — must never crash runts (lmdb
// faults on such a file: SIGSEGV, SIGBUS) nor orphan the running containers: every command refuses with one line
// naming the file and `runts repair`, which rebuilds the store from the containers' state directories.
describe('a damaged state database', { skip: isRoot ? false : 'creates real containers: needs root' }, () => {
  const sb = new Sandbox();
  // No supervisor: each command opens the store itself.
  const env = { RUNTS_NO_SUPERVISOR: '1' };
  const running = sb.id('dmg-run');
  const paused = sb.id('dmg-pause');
  const bundles = new Map<string, string>();
  const file = join(sb.root, 'runts.mdb');
  const good = join(sb.dir, 'good.mdb');
  after(() => sb.cleanup());

  test('setup: one running and one paused container', { timeout: 60_000 }, () => {
    for (const id of [running, paused]) {
      bundles.set(id, sb.bundle(id, (s) => (s.process!.args = ['/bin/sleep', '1000'])));
      const r = sb.runts(['run', '-d', '--bundle', bundles.get(id)!, id], { env });
      assert.equal(r.status, 0, r.stderr);
    }
    assert.equal(sb.runts(['pause', paused], { env }).status, 0);
    copyFileSync(file, good);
  });

  /** Every command that reads or writes the store, as a caller would run it against the running container. */
  const commands = (): string[][] => {
    const fresh = sb.id('dmg-new');
    const bundle = bundles.get(running)!;
    return [
      ['state', running],
      ['list'],
      ['ps-all', '-q'],
      ['start', running],
      ['kill', running, 'TERM'],
      ['pause', running],
      ['resume', paused],
      ['ps', running],
      ['exec', running, '/bin/true'],
      ['update', '--pids-limit', '100', running],
      ['events', '--stats', running],
      ['events', '--transitions', running],
      ['history', running],
      ['history', '--purge'],
      ['cp', `${running}:/etc/passwd`, join(sb.dir, 'copied')],
      ['create', '--bundle', bundle, fresh],
      ['run', '-d', '--bundle', bundle, fresh],
      ['delete', '--force', running],
      ['supervise'],
      ['ui', '--listen', '127.0.0.1:0'],
    ];
  };

  const pageSize = 4096;
  const damages: [string, () => void][] = [
    ['4 KiB of random bytes at its start', () => patch(0, Buffer.from(Array.from({ length: pageSize }, (_, i) => (i * 7919 + 13) & 0xff)))],
    ['truncated to 4096 bytes', () => truncateSync(file, 4096)],
    ['truncated to half its size', () => truncateSync(file, Math.floor(statSync(good).size / 2))],
    ['emptied', () => writeFileSync(file, '')],
    // The pages that hold the containers' records (every tree page naming the running container: its record, spec,
    // history and feed entries), zeroed as a bad sector or a torn write would leave them.
    ['zeroed pages in the middle', () => {
      const data = readFileSync(file);
      let zeroed = 0;
      for (let p = 2; p < data.length / pageSize; p++) {
        const page = data.subarray(p * pageSize, (p + 1) * pageSize);
        if (page.includes(running)) (patch(p * pageSize, Buffer.alloc(pageSize)), zeroed++);
      }
      assert.ok(zeroed > 0, 'found pages to zero');
    }],
  ];

  function patch(offset: number, bytes: Buffer): void {
    const fd = openSync(file, 'r+');
    try {
      writeSync(fd, bytes, 0, bytes.length, offset);
    } finally {
      closeSync(fd);
    }
  }

  for (const [name, damage] of damages) {
    test(`${name}: every command says so in one line, non-zero, no signal; repair brings both containers back`, { timeout: 180_000 }, () => {
      copyFileSync(good, file);
      damage();
      for (const args of commands()) {
        const r = sb.runts(args, { env, timeoutMs: 20_000 });
        const what = `${args.join(' ')}: status ${r.status} signal ${r.signal} stderr ${JSON.stringify(r.stderr)}`;
        assert.equal(r.signal, null, what);
        assert.notEqual(r.status, 0, what);
        assert.match(r.stderr, /^runts: state database \S+\/runts\.mdb is damaged \(.+\): run "runts --root \S+ repair" to rebuild it from the containers' state directories\n$/, what);
        assert.ok(r.stderr.startsWith(`runts: state database ${file} `), what);
      }
      const fresh = readdirSync(sb.root).filter((n) => n.startsWith('dmg-new'));
      assert.deepEqual(fresh, [], 'a refused create made nothing');

      const repair = sb.runts(['repair'], { env });
      assert.equal(repair.status, 0, repair.stderr);
      assert.match(repair.stdout, new RegExp(`restored 2 container\\(s\\): .*${running}`));
      assert.ok(readdirSync(sb.root).some((n) => n.startsWith('runts.mdb.damaged-')), 'the damaged file is kept');
      assert.equal(sb.state(running).status, 'running');
      assert.equal(sb.state(paused).status, 'paused');
      const listed = sb.runts(['list', '-q'], { env }).stdout.split('\n');
      assert.ok(listed.includes(running) && listed.includes(paused), 'list shows them');
      // Nothing left to repair: repair changes nothing.
      const again = sb.runts(['repair'], { env });
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, /not damaged: nothing to repair/);
    });
  }

  test('after a repair, kill and delete --force work and leave nothing behind', { timeout: 60_000 }, () => {
    copyFileSync(good, file);
    truncateSync(file, 4096);
    assert.equal(sb.runts(['repair'], { env }).status, 0);
    assert.equal(sb.runts(['kill', running, 'KILL'], { env }).status, 0);
    assert.equal(sb.state(running).status, 'stopped');
    for (const id of [running, paused]) {
      const r = sb.runts(['delete', '--force', id], { env });
      assert.equal(r.status, 0, r.stderr);
      assertNoLeftovers(sb, id, bundles.get(id)!);
      for (const h of cgroupHierarchies()) assert.equal(existsSync(join(h, sb.cgroupParent, id)), false);
    }
  });
});
