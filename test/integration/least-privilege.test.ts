// Absent means least (issue 15, finding 2): a config without process.capabilities runs with none, as with runc;
// an exec without capabilities gets the container's, and no exec gets one outside the container's bounding set.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUNTS, Sandbox, assertNoLeftovers, isRoot } from '../helpers/runts.js';
import { CAPABILITIES } from '../../src/native/plan.js';

const skip = isRoot ? false : 'needs root: real containers';

/** The Cap* lines of /proc/self/status, by name. */
function capsOf(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .split('\n')
      .filter((l) => /^Cap(Inh|Prm|Eff|Bnd|Amb):/.test(l))
      .map((l) => l.split(/:\s+/)),
  );
}

const SHOW_CAPS = 'grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb)" /proc/self/status';

describe('no capabilities in config.json: none at all', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  test('all five sets are empty inside, and mounting a cgroup v1 hierarchy is refused', () => {
    const id = sb.id('nocaps');
    const bundle = sb.bundle(id, (s) => {
      delete s.process!.capabilities;
      s.process!.args = [
        '/bin/sh',
        '-c',
        `${SHOW_CAPS}; mkdir -p /tmp/cg; if mount -t cgroup -o memory cgroup /tmp/cg 2>/dev/null; then echo mount=done; else echo mount=refused; fi`,
      ];
    });
    const r = sb.runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    const caps = capsOf(r.stdout);
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.equal(caps[set], '0000000000000000', `${set}: ${r.stdout}`);
    assert.match(r.stdout, /^mount=refused$/m);
  });

  test('an empty capabilities object (no set in it) gives none either', () => {
    const id = sb.id('emptycaps');
    const bundle = sb.bundle(id, (s) => {
      s.process!.capabilities = {};
      s.process!.args = ['/bin/sh', '-c', SHOW_CAPS];
    });
    const r = sb.runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    const caps = capsOf(r.stdout);
    assert.equal(caps.CapBnd, '0000000000000000', r.stdout);
    assert.equal(caps.CapEff, '0000000000000000', r.stdout);
  });
});

describe('exec: the container\'s capabilities, never beyond its bounding set', { skip }, () => {
  let sb: Sandbox;
  let id: string;
  let bundle: string;
  // Bounding: KILL (5), NET_BIND_SERVICE (10), CHOWN (0) = 0x421; effective/permitted: KILL only = 0x20.
  before(() => {
    sb = new Sandbox();
    id = sb.id('execcaps');
    bundle = sb.bundle(id, (s) => {
      s.process!.args = ['/bin/sleep', '1000'];
      s.process!.capabilities = {
        bounding: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_CHOWN'],
        effective: ['CAP_KILL'],
        permitted: ['CAP_KILL'],
        inheritable: [],
        ambient: [],
      };
    });
    const r = sb.runts(['run', '--detach', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => sb.cleanup());

  const processFile = (name: string, extra: Record<string, unknown>) => {
    const file = join(sb.dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ args: ['/bin/sh', '-c', `touch /tmp/${name}; ${SHOW_CAPS}`], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'], ...extra }));
    return file;
  };

  test('exec -p with a process.json without capabilities runs with the container\'s sets', () => {
    const r = sb.runts(['exec', '-p', processFile('nocaps', {}), id]);
    assert.equal(r.status, 0, r.stderr);
    const caps = capsOf(r.stdout);
    // uid 0 gets its whole bounding set as permitted and effective through execve (runc's result too); before,
    // the exec ran with all of runts' capabilities (000001ffffffffff).
    assert.deepEqual(
      [caps.CapBnd, caps.CapPrm, caps.CapEff, caps.CapInh, caps.CapAmb],
      ['0000000000000421', '0000000000000421', '0000000000000421', '0000000000000000', '0000000000000000'],
      r.stdout,
    );
  });

  test('exec --cap of a capability in the bounding set is allowed', () => {
    const r = sb.runts(['exec', '--cap', 'CAP_CHOWN', id, 'sh', '-c', SHOW_CAPS]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(capsOf(r.stdout).CapBnd, '0000000000000421', r.stdout);
  });

  test('exec --cap outside the bounding set is refused with one clear line, and nothing runs', () => {
    const r = sb.runts(['exec', '--cap', 'CAP_SYS_ADMIN', id, 'touch', '/tmp/cap-sys-admin']);
    assert.equal(r.status, 255, r.stdout); // exec's own failures exit 255, as runc's
    assert.equal(
      r.stderr,
      `runts: exec in container "${id}" asks for CAP_SYS_ADMIN, outside the container's bounding set: ` +
        'drop them (--cap, process.capabilities, exec --privileged), or create the container with them\n',
    );
    assert.equal(existsSync(join(bundle, 'rootfs/tmp/cap-sys-admin')), false, 'the process did not run');
  });

  test('a process.json with every capability (Docker\'s exec --privileged) is refused', () => {
    const all = Object.keys(CAPABILITIES);
    const r = sb.runts(['exec', '-p', processFile('privileged', { capabilities: { bounding: all, permitted: all, effective: all } }), id]);
    assert.equal(r.status, 255, r.stdout);
    assert.match(r.stderr, new RegExp(`^runts: exec in container "${id}" asks for CAP_AUDIT_CONTROL, .* and \\d+ more, outside the container's bounding set`));
    assert.equal(existsSync(join(bundle, 'rootfs/tmp/privileged')), false, 'the process did not run');
  });

  test('the container is unharmed by the refusals', () => {
    assert.equal(sb.state(id).status, 'running');
  });
});

// The conformance suite's process_capabilities asks for every capability; a host whose runtime lacks one (this
// VM's bounding set has no CAP_SYS_RESOURCE) cannot grant it, and runc fails there too. The error must say which.
describe('a capability runts itself does not have', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  test('create fails with one line naming it and the fix, and leaves nothing behind', () => {
    const id = sb.id('lacking');
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['/bin/true'];
      s.process!.capabilities = {
        bounding: ['CAP_KILL', 'CAP_SYS_BOOT'],
        effective: ['CAP_KILL', 'CAP_SYS_BOOT'],
        permitted: ['CAP_KILL', 'CAP_SYS_BOOT'],
      };
    });
    // runts without CAP_SYS_BOOT: setpriv drops it from the bounding set, so root's permitted set lacks it after exec.
    const r = spawnSync('setpriv', ['--bounding-set', '-sys_boot', RUNTS, '--root', sb.root, 'run', '--bundle', bundle, id], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stdout);
    assert.equal(
      r.stderr,
      `runts: container "${id}": process.capabilities asks for CAP_SYS_BOOT, which runts itself does not have: ` +
        'remove it from process.capabilities, or run runts with it\n',
    );
    assertNoLeftovers(sb, id, bundle);
  });
});
