// Exact ids change things (issue 15, findings 4 and 7): abbreviated ids are resolved only for commands that read;
// start, kill, delete, pause, resume, update, exec and cp into a container act on the exact id only. delete --force
// of a missing id succeeds (as runc), and ids too long for a directory name are refused up front.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, assertNoLeftovers, cgroupHierarchies, isRoot } from '../helpers/runts.js';
import { Runtime } from '../../src/runtime.js';
import type { RuntsError } from '../../src/errors.js';
import type { Spec } from '../../src/oci/types.js';

const skip = isRoot ? false : 'needs root: real containers';
const sleeper = (s: Spec) => void (s.process!.args = ['/bin/sleep', '1000']);

// Through Node, and with a warm host serving the root (bin/runts hands it the commands it serves).
for (const path of ['node', 'host'] as const)
describe(`exact ids for commands that change a container (CLI, ${path})`, { skip }, () => {
  let sb: Sandbox;
  let short: string;
  let long: string;
  let bundle: string;
  before(async () => {
    sb = new Sandbox();
    short = sb.track(`pfx-${Math.random().toString(36).slice(2, 8)}`);
    long = sb.track(`${short}d`);
    bundle = sb.bundle(long, sleeper);
    if (path === 'host') await sb.startHost();
  });
  after(async () => {
    await sb.stopHosts();
    sb.cleanup();
  });

  test('create abc; create abcd; delete -f abc twice: the repeat leaves abcd alone and exits 0', () => {
    assert.equal(sb.runts(['create', '--bundle', sb.bundleFrom(bundle, short), short]).status, 0);
    assert.equal(sb.runts(['create', '--bundle', bundle, long]).status, 0);
    const first = sb.runts(['delete', '-f', short]);
    assert.equal(first.status, 0, first.stderr);
    const again = sb.runts(['delete', '-f', short]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout, '');
    assert.equal(sb.runts(['state', long]).status, 0, `${long} must still exist`);
    assert.equal(sb.state(long).status, 'created');
  });

  test('every changing command refuses the abbreviation: "container "<id>" does not exist"', () => {
    // `short` is gone: it is now only a prefix of `long`.
    const file = join(sb.dir, 'host-file');
    writeFileSync(file, 'data');
    const cases: string[][] = [
      ['start', short],
      ['kill', short, 'KILL'],
      ['pause', short],
      ['resume', short],
      ['update', '--pids-limit', '10', short],
      ['exec', short, 'true'],
      ['cp', file, `${short}:/tmp/copied`],
      ['delete', short],
    ];
    for (const args of cases) {
      const r = sb.runts(args);
      // exec's own failures exit 255, as runc's.
      assert.equal(r.status, args[0] === 'exec' ? 255 : 1, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, `runts: container "${short}" does not exist\n`, args.join(' '));
    }
    assert.equal(sb.state(long).status, 'created', 'nothing reached the container');
    assert.equal(existsSync(join(bundle, 'rootfs/tmp/copied')), false);
  });

  test('reading commands still resolve the abbreviation: state, ps, events --stats, history, cp out', () => {
    assert.equal(sb.runts(['start', long]).status, 0);
    assert.equal(sb.state(short).id, long);
    const ps = sb.runts(['ps', '--format', 'json', short]);
    assert.equal(ps.status, 0, ps.stderr);
    assert.equal((JSON.parse(ps.stdout) as number[]).length, 1);
    const events = sb.runts(['events', '--stats', short]);
    assert.equal(events.status, 0, events.stderr);
    assert.equal(JSON.parse(events.stdout).id, long);
    const history = sb.runts(['history', '--format', 'json', short]);
    assert.equal(history.status, 0, history.stderr);
    assert.ok((JSON.parse(history.stdout) as { id: string }[]).every((t) => t.id === long));
    const out = join(sb.dir, 'copied-out');
    const cp = sb.runts(['cp', `${short}:/etc/passwd`, out]);
    assert.equal(cp.status, 0, cp.stderr);
    assert.equal(readFileSync(out, 'utf8'), readFileSync(join(bundle, 'rootfs/etc/passwd'), 'utf8'));
  });

  test('delete of a missing id: with --force exit 0 and nothing printed; without, not found', () => {
    const missing = `missing-${Math.random().toString(36).slice(2, 8)}`;
    const forced = sb.runts(['delete', '--force', missing]);
    assert.deepEqual([forced.status, forced.stdout, forced.stderr], [0, '', '']);
    const plain = sb.runts(['delete', missing]);
    assert.equal(plain.status, 1);
    assert.equal(plain.stderr, `runts: container "${missing}" does not exist\n`);
  });

  test('an invalid id stays an error even with --force', () => {
    const r = sb.runts(['delete', '--force', '../etc']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^runts: invalid container id "\.\.\/etc"/);
  });
});

describe('id length: at most one directory name', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  for (const length of [256, 1024]) {
    test(`a ${length}-character id is refused with one clear line, and nothing is left behind`, () => {
      const id = 'x'.repeat(length);
      const bundle = sb.bundle(`long${length}`, sleeper);
      const r = sb.runts(['create', '--bundle', bundle, id]);
      assert.equal(r.status, 1);
      assert.equal(r.stderr, `runts: invalid container id "${'x'.repeat(63)}… (${length} characters): use at most 255 (it names a directory)\n`);
      assert.deepEqual(sb.runts(['list', '-q']).stdout.trim().split('\n').filter(Boolean), []);
      assert.equal(existsSync(join(sb.root, id.slice(0, 255))), false);
      for (const h of cgroupHierarchies()) assert.equal(existsSync(join(h, sb.cgroupParent, `long${length}`)), false, h);
    });
  }

  test('a 255-character id works from create to delete', () => {
    const id = sb.track('y'.repeat(255));
    const bundle = sb.bundle('long255', sleeper);
    const r = sb.runts(['run', '--detach', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(sb.state(id).status, 'running');
    assert.equal(sb.runts(['delete', '--force', id]).status, 0);
    sb.untrack(id);
    assertNoLeftovers(sb, id, bundle);
  });
});

describe('exact ids for changes through the Runtime API', { skip }, () => {
  let sb: Sandbox;
  let rt: Runtime;
  before(async () => {
    sb = new Sandbox();
    rt = await Runtime.open({ root: sb.root });
  });
  after(async () => {
    await rt.close();
    sb.cleanup();
  });

  test('delete({force}) of a prefix leaves the longer container alone; reads resolve it, changes do not', async () => {
    const short = sb.track(`api-${Math.random().toString(36).slice(2, 8)}`);
    const long = sb.track(`${short}d`);
    const bundle = sb.bundle(long, sleeper);
    await rt.create(short, { bundle: sb.bundleFrom(bundle, short) });
    await rt.create(long, { bundle });
    await rt.delete(short, { force: true });
    await rt.delete(short, { force: true }); // missing: no error, and abcd untouched
    assert.equal((await rt.state(long)).status, 'created');
    assert.equal((await rt.state(short)).id, long, 'a read resolves the abbreviation');
    const notFound = { code: 'not_found', message: `container "${short}" does not exist` };
    await assert.rejects(rt.delete(short), notFound);
    await assert.rejects(rt.start(short), notFound);
    await assert.rejects(rt.kill(short, 9), notFound);
    await assert.rejects(rt.exec(short, { args: ['true'] }), notFound);
    await assert.rejects(rt.writeFile(short, '/tmp/f', Buffer.from('x')), notFound);
    assert.deepEqual((await rt.listDir(short, '/etc')).map((e) => e.name).includes('passwd'), true, 'a read through the gofer resolves it');
    assert.equal((await rt.state(long)).status, 'created');
    await rt.delete(long, { force: true });
    await assert.rejects(rt.state(long), (e: RuntsError) => e.code === 'not_found');
  });
});
