// Hostile configs: device paths, mount destinations, masked and readonly paths that climb out of the rootfs or
// go through magic links; absent capabilities; exec'd processes asking for more than the container has.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox } from '../helpers/runts.js';
import { assertInsideOrRefused, assertRefused, capsOf, guarded, hostile, plantLink, skip } from './helpers.js';

const CAP_SYS_ADMIN = 21n;

describe('escape: hostile config', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  const device = (path: string) => ({ path, type: 'c' as const, major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 });

  // runc 1.1.5 joins device paths onto the rootfs with SecureJoin: both land inside it.
  test('linux.devices path through /proc/self/root makes no node on the host', () =>
    guarded((host) => {
      const target = host.target('devnode');
      const c = hostile(sb, 'dev-selfroot', { edit: (s) => (s.linux!.devices = [device(`/proc/self/root${target}`)]) });
      assertInsideOrRefused(sb, c, sb.runts(['run', '--bundle', c.bundle, c.id]), () => undefined);
    }));

  test('linux.devices path with a ../.. chain makes no node in the host\'s /dev', () =>
    guarded((host) => {
      const target = host.target('devdots', '/dev');
      const c = hostile(sb, 'dev-dots', {
        edit: (s) => {
          s.linux!.devices = [device(`/dev/../../../../../../../../../..${target}`)];
          s.process!.args = ['/bin/sh', '-c', `test -c ${target} && echo inside`];
        },
      });
      assertInsideOrRefused(sb, c, sb.runts(['run', '--bundle', c.bundle, c.id]), (out) => assert.equal(out.trim(), 'inside'));
    }));

  // runc 1.1.5 resolves both through the procfs it has just mounted (/proc/self/root -> `/` of the rootfs) and
  // mounts inside the rootfs at <host path>; refusing any destination under /proc is stricter and as good.
  const mountedInside = (target: string) => (out: string) => assert.equal(out.trim(), 'mounted-inside', `a tmpfs at ${target} in the container`);
  const probeMount = (target: string) => ['/bin/sh', '-c', `grep -q " ${target} tmpfs" /proc/self/mounts && echo mounted-inside`];

  test('a mount destination /proc/self/root/<host path> is refused or lands inside the rootfs', () =>
    guarded((host) => {
      const target = host.target('mnt-selfroot');
      const c = hostile(sb, 'mnt-selfroot', {
        edit: (s) => {
          s.mounts!.push({ destination: `/proc/self/root${target}`, type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
          s.process!.args = probeMount(target);
        },
      });
      assertInsideOrRefused(sb, c, sb.runts(['run', '--bundle', c.bundle, c.id]), mountedInside(target));
    }));

  test('a mount destination /proc/1/root/<host path> is refused or lands inside the rootfs', () =>
    guarded((host) => {
      const target = host.target('mnt-1root', '/etc');
      const c = hostile(sb, 'mnt-1root', {
        edit: (s) => {
          s.mounts!.push({ destination: `/proc/1/root${target}`, type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
          s.process!.args = probeMount(target);
        },
      });
      assertInsideOrRefused(sb, c, sb.runts(['run', '--bundle', c.bundle, c.id]), mountedInside(target));
    }));

  test('a mount destination /../../..<host path> lands inside the rootfs', () =>
    guarded((host) => {
      const target = host.target('mnt-dots', '/etc');
      const c = hostile(sb, 'mnt-dots', {
        edit: (s) => {
          s.mounts!.push({ destination: `/../../../../../../..${target}`, type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
          s.process!.args = probeMount(target);
        },
      });
      assertInsideOrRefused(sb, c, sb.runts(['run', '--bundle', c.bundle, c.id]), mountedInside(target));
    }));

  // runc 1.1.5: "... cannot be mounted because it is inside /proc".
  test('a bind onto /proc/sys/kernel is refused (not in runc\'s /proc allow-list)', () =>
    guarded((host) => {
      const c = hostile(sb, 'bind-sysk', {
        edit: (s) => s.mounts!.push({ destination: '/proc/sys/kernel', type: 'bind', source: host.dir, options: ['rbind', 'rw'] }),
      });
      assertRefused(sb, c, sb.runts(['create', '--bundle', c.bundle, c.id]), /\/proc\/sys\/kernel/);
    }));

  test('a mount destination through a rootfs link to /proc/self/root/<host dir> is refused or lands inside', () =>
    guarded((host) => {
      const c = hostile(sb, 'mnt-link', {
        edit: (s) => s.mounts!.push({ destination: '/data/sub', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }),
        prepare: (r) => plantLink(r, 'data', `/proc/self/root${host.dir}`),
      });
      assertInsideOrRefused(sb, c, sb.runts(['run', '--bundle', c.bundle, c.id]), () => undefined);
    }));

  // runc applies masked and readonly paths after pivot_root, so the links resolve in the container (and a missing
  // path is skipped): nothing on the host is masked, made or remounted (runc 1.1.5 runs it, prints "done").
  test('maskedPaths and readonlyPaths through magic links, ../.. chains and rootfs links leave the host alone', () =>
    guarded((host) => {
      const c = hostile(sb, 'masked', {
        edit: (s) => {
          s.linux!.maskedPaths = [...(s.linux!.maskedPaths ?? []), `/proc/self/root${host.target('masked')}`, `/../../../../../../..${host.secret}`, '/mlink/inner', '/mlink2'];
          s.linux!.readonlyPaths = [...(s.linux!.readonlyPaths ?? []), `/proc/1/root${host.dir}`, `/../../../../../../..${host.target('ro', '/etc')}`, '/rolink'];
          s.process!.args = ['/bin/sh', '-c', `cat /mlink/inner /mlink2 ${host.secret} 2>/dev/null; echo done`];
        },
        prepare: (r) => {
          plantLink(r, 'mlink', `/proc/self/root${host.dir}`);
          plantLink(r, 'mlink2', `../../../../../../..${host.secret}`);
          plantLink(r, 'rolink', host.dir);
        },
      });
      const r = sb.runts(['run', '--bundle', c.bundle, c.id]);
      assertInsideOrRefused(sb, c, r, (out) => assert.equal(out.trim(), 'done', 'no host file was readable'));
    }));

  // runc 1.1.5: "sysctl "kernel.core_pattern" is not in a separate kernel namespace"; the others fail in its
  // init ("open /proc/sys/net/kernel/core_pattern: no such file or directory").
  test('sysctls that are not namespaced, or climb out of a namespaced prefix, are refused', () =>
    guarded(() => {
      for (const key of ['kernel.core_pattern', 'net/../kernel/core_pattern', 'net.ipv4/../../kernel/core_pattern']) {
        const c = hostile(sb, 'sysctl', { edit: (s) => (s.linux!.sysctl = { [key]: '|/bin/false runts-escape' }) });
        assertRefused(sb, c, sb.runts(['create', '--bundle', c.bundle, c.id]));
      }
    }));

  // runc 1.1.5 grants none either (all five sets 0).
  test('no process.capabilities: CapEff is 0 and mounting a cgroup fails inside', () =>
    guarded(() => {
      const c = hostile(sb, 'nocaps', {
        edit: (s) => {
          delete s.process!.capabilities;
          s.process!.args = ['/bin/sh', '-c', 'cat /proc/self/status; mkdir -p /tmp/cg; mount -t cgroup -o memory cgroup /tmp/cg 2>/dev/null && echo MOUNTED; mount -t tmpfs t /tmp/cg 2>/dev/null && echo MOUNTED; true'];
        },
      });
      const r = sb.runts(['run', '--bundle', c.bundle, c.id]);
      assert.equal(r.status, 0, r.stderr);
      const caps = capsOf(r.stdout);
      assert.deepEqual([caps.eff, caps.prm, caps.inh, caps.amb], [0n, 0n, 0n, 0n], 'no capability at all');
      assert.doesNotMatch(r.stdout, /MOUNTED/);
    }));

  describe('exec', () => {
    let id: string;
    let init: ReturnType<typeof capsOf>;
    before(() => {
      const c = hostile(sb, 'exec-target', { edit: (s) => (s.process!.args = ['/bin/sleep', '1000']) });
      const r = sb.runts(['run', '--detach', '--bundle', c.bundle, c.id]);
      assert.equal(r.status, 0, r.stderr);
      id = c.id;
      const ex = sb.runts(['exec', id, '/bin/cat', '/proc/1/status']);
      assert.equal(ex.status, 0, ex.stderr);
      init = capsOf(ex.stdout);
      assert.equal(init.bnd & (1n << CAP_SYS_ADMIN), 0n, 'precondition: the container has no CAP_SYS_ADMIN');
    });

    const processJson = (name: string, edit: (p: Record<string, unknown>) => void): string => {
      const p: Record<string, unknown> = {
        terminal: false,
        user: { uid: 0, gid: 0 },
        args: ['/bin/sh', '-c', 'cat /proc/self/status; mkdir -p /tmp/m; mount -t tmpfs t /tmp/m 2>/dev/null && echo MOUNTED; true'],
        env: ['PATH=/bin:/usr/bin'],
        cwd: '/',
      };
      edit(p);
      const dir = join(sb.dir, 'process');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(p));
      return file;
    };

    /** The exec'd process has no capability outside the container's bounding set, and cannot mount. */
    const withinBounds = (r: { status: number | null; stdout: string; stderr: string }) => {
      if (r.status !== 0) {
        assert.equal(r.stderr.trim().split('\n').length, 1, `a refusal is one line: ${r.stderr}`);
        return;
      }
      const caps = capsOf(r.stdout);
      for (const [k, v] of Object.entries(caps)) assert.equal(v & ~init.bnd, 0n, `Cap${k} ${v.toString(16)} exceeds the container's bounding set ${init.bnd.toString(16)}`);
      assert.doesNotMatch(r.stdout, /MOUNTED/);
    };

    // runc 1.1.5 gives such a process the container's capabilities (20000420 here): within the bounding set.
    test('exec -p without capabilities: nothing beyond the container\'s bounding set', () =>
      guarded(() => {
        const r = sb.runts(['exec', '-p', processJson('nocaps', () => undefined), id]);
        assert.equal(r.status, 0, r.stderr);
        withinBounds(r);
      }));

    // runc 1.1.5 grants CAP_SYS_ADMIN here (and with --cap): an exec'd process can then mount, unshare... in the
    // container's namespaces. DESIGN "absent means least": an exec never exceeds the container's bounding set.
    test('exec -p asking for CAP_SYS_ADMIN outside the bounding set: refused or not granted', () =>
      guarded(() => {
        const all = ['CAP_SYS_ADMIN', 'CAP_KILL'];
        const file = processJson('sysadmin', (p) => (p.capabilities = { bounding: all, effective: all, permitted: all, inheritable: all, ambient: all }));
        withinBounds(sb.runts(['exec', '-p', file, id]));
      }));

    test('exec --cap CAP_SYS_ADMIN outside the bounding set: refused or not granted', () =>
      guarded(() => {
        withinBounds(sb.runts(['exec', '--cap', 'CAP_SYS_ADMIN', id, '/bin/sh', '-c', 'cat /proc/self/status; mkdir -p /tmp/m; mount -t tmpfs t /tmp/m 2>/dev/null && echo MOUNTED; true']));
      }));
  });
});
