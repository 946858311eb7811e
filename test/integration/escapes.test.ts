// Escapes (issue 7): hostile bundles and processes must not reach the host. Mount destinations through symlinks
// and cp paths are covered in gofer.test.ts; these are the rest.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, isRoot } from '../helpers/runts.js';

const skip = isRoot ? false : 'needs root: real containers';
const TYPE = 'io.kubernetes.cri.container-type';
const SANDBOX = 'io.kubernetes.cri.sandbox-id';

describe('escapes', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  test('rootfs symlink tricks: /dev and /proc pointing out of the rootfs land inside it', () => {
    const outside = mkdtempSync(join(tmpdir(), 'runts-outside-'));
    try {
      const id = sb.id('symroot');
      const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sh', '-c', 'ls /dev/null && echo dev-ok; ls /proc/self/status >/dev/null && echo proc-ok']));
      const rootfs = join(bundle, 'rootfs');
      rmSync(join(rootfs, 'dev'), { recursive: true });
      symlinkSync(`/../../../../${outside}`, join(rootfs, 'dev')); // absolute, climbing: means <rootfs><outside>
      const r = sb.runts(['run', '--bundle', bundle, id]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), ['/dev/null', 'dev-ok', 'proc-ok']);
      assert.deepEqual(readdirSync(outside), [], 'nothing was made on the host');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  test('process.cwd outside the rootfs resolves inside it', () => {
    const id = sb.id('cwd');
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['/bin/sh', '-c', 'pwd; ls'];
      s.process!.cwd = '/../../../../etc';
    });
    const r = sb.runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    // The container's /etc: the two files make-rootfs.sh writes, not the host's hundreds.
    assert.deepEqual(r.stdout.trim().split('\n'), ['/etc', 'group', 'passwd']);
  });

  test('no host file descriptor is visible inside a container (only 0, 1, 2 and preserved ones)', () => {
    const id = sb.id('fds');
    const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sh', '-c', 'cd /proc/self/fd && echo *']));
    const r = sb.runts(['run', '--bundle', bundle, id]);
    // sh's own fds for `cd` and the glob: 0 1 2 and at most its directory fd.
    assert.match(r.stdout.trim(), /^0 1 2( \d+)?$/);
  });

  test('a process in the sandbox cannot open a sibling\'s /proc/<pid>/exe while that init is still runts\' own', () => {
    const pod = sb.id('pod');
    const podBundle = sb.bundle(pod, (s) => {
      s.process!.args = ['/bin/sleep', '100000'];
      s.annotations = { [TYPE]: 'sandbox' };
    });
    assert.equal(sb.runts(['run', '--detach', '--bundle', podBundle, pod]).status, 0);
    const sharePid = (s: import('../../src/oci/types.js').Spec) => {
      s.annotations = { [TYPE]: 'container', [SANDBOX]: pod };
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
      delete s.linux!.cgroupsPath;
    };
    // A created (not started) sibling: its init is a copy of runts' Node until `start`.
    const waiting = sb.id('waiting');
    const waitingBundle = sb.bundle(waiting, (s) => {
      sharePid(s);
      s.process!.args = ['/bin/sleep', '100'];
    });
    assert.equal(sb.runts(['create', '--bundle', waitingBundle, waiting]).status, 0);
    const prober = sb.id('prober');
    const proberBundle = sb.bundle(prober, (s) => {
      sharePid(s);
      // Every process of the shared pid namespace: can its executable be opened?
      s.process!.args = ['/bin/sh', '-c', 'for p in /proc/[0-9]*; do [ "$p" = /proc/$$ ] && continue; if cat $p/exe > /dev/null 2>&1; then echo "$p open"; else echo "$p refused"; fi; done'];
    });
    const r = sb.runts(['run', '--bundle', proberBundle, prober]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.includes('/proc/1 open'), `the pause process is an ordinary one: ${lines}`);
    assert.ok(lines.some((l) => l.endsWith(' refused')), `the waiting init is not dumpable: ${lines}`);
  });

  test('the state root is 0700 and its files 0600', () => {
    const id = sb.id('modes');
    const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sleep', '1000']));
    assert.equal(sb.runts(['create', '--bundle', bundle, id]).status, 0);
    const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? [join(dir, n), ...walk(join(dir, n))] : [join(dir, n)]));
    assert.equal(statSync(sb.root).mode & 0o777, 0o700);
    for (const p of walk(sb.root)) {
      const st = statSync(p);
      const mode = st.mode & 0o777;
      if (st.isDirectory()) assert.equal(mode, 0o700, p);
      else if (st.isSocket()) assert.equal(mode & 0o077, 0, `${p} (socket) is not reachable by others`);
      else assert.equal(mode, 0o600, p);
    }
    assert.ok(existsSync(join(sb.root, id)));
  });
});
