// Hostile images: symlinks in the rootfs where the runtime creates, mounts or chdirs, pointing at a canary tree
// on the host through magic links (/proc/self/root, /proc/1/root, /proc/thread-self/root, /proc/self/cwd),
// absolute paths and `../..` chains. Whatever the runtime does, the host must not change: a link is resolved as
// if the rootfs were `/` (things land inside it), or the create is refused with one line and nothing left.
// runc 1.1.5 (run by hand on this VM with the same bundles) resolves these inside the rootfs, refuses /proc and
// /sys as symlinks ("filesystem "proc" must be mounted on ordinary directory") -- and, for /dev ->
// /proc/self/root/<host dir>, makes its /dev/fd, /dev/stdin... and /dev/ptmx links in the host dir (a runc bug
// we do not copy).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox } from '../helpers/runts.js';
import { assertInsideOrRefused, assertRefused, guarded, hostile, plantLink, skip, withoutMount } from './helpers.js';

/** Climbs far enough out of any bundle to reach the host's `/` if resolved on the host. */
const UP = '../../../../../../../../../../..';

describe('escape: rootfs links', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  test('/dev -> /proc/self/root/<host dir>: the /dev tmpfs and its nodes land inside the rootfs', () =>
    guarded((host) => {
      const c = hostile(sb, 'dev-selfroot', {
        edit: (s) => (s.process!.args = ['/bin/sh', '-c', 'test -c /dev/null && echo dev-ok']),
        prepare: (r) => plantLink(r, 'dev', `/proc/self/root${host.dir}`),
      });
      const r = sb.runts(['run', '--bundle', c.bundle, c.id]);
      assertInsideOrRefused(sb, c, r, (out) => assert.equal(out.trim(), 'dev-ok'));
    }));

  test('/dev -> /proc/self/cwd with no /dev mount, run from a host dir: the device nodes are not made there', () =>
    guarded((host) => {
      const c = hostile(sb, 'dev-cwd', {
        edit: (s) => withoutMount(s, '/dev'),
        prepare: (r) => plantLink(r, 'dev', '/proc/self/cwd'),
      });
      // The runtime's own cwd is the canary dir: a link resolved on the host would make null, zero... there.
      const r = sb.runts(['run', '--bundle', c.bundle, c.id], { cwd: host.dir });
      assertInsideOrRefused(sb, c, r, () => undefined);
    }));

  test('/dev/pts -> /proc/1/root/<host dir> (no /dev tmpfs hiding it): devpts is not mounted on the host', () =>
    guarded((host) => {
      const c = hostile(sb, 'pts-1root', {
        edit: (s) => withoutMount(s, '/dev'),
        prepare: (r) => plantLink(r, 'dev/pts', `/proc/1/root${host.target('pts')}`),
      });
      assertInsideOrRefused(sb, c, sb.runts(['run', '--bundle', c.bundle, c.id]), () => undefined);
    }));

  test('/dev/shm -> /proc/thread-self/root/<host dir>', () =>
    guarded((host) => {
      const c = hostile(sb, 'shm-thread', {
        edit: (s) => withoutMount(s, '/dev'),
        prepare: (r) => plantLink(r, 'dev/shm', `/proc/thread-self/root${host.target('shm', '/dev')}`),
      });
      assertInsideOrRefused(sb, c, sb.runts(['run', '--bundle', c.bundle, c.id]), () => undefined);
    }));

  test('/dev/mqueue -> a relative ../../.. chain to a host dir', () =>
    guarded((host) => {
      const c = hostile(sb, 'mqueue-rel', {
        edit: (s) => withoutMount(s, '/dev'),
        prepare: (r) => plantLink(r, 'dev/mqueue', `${UP}${host.target('mqueue')}`),
      });
      assertInsideOrRefused(sb, c, sb.runts(['run', '--bundle', c.bundle, c.id]), () => undefined);
    }));

  test('/proc -> /proc/self/root/<host dir> is refused (runc: "must be mounted on ordinary directory")', () =>
    guarded((host) => {
      const c = hostile(sb, 'proc-selfroot', { prepare: (r) => plantLink(r, 'proc', `/proc/self/root${host.dir}`) });
      assertRefused(sb, c, sb.runts(['create', '--bundle', c.bundle, c.id]), /\/proc/);
    }));

  test('/proc -> an absolute host dir is refused', () =>
    guarded((host) => {
      const c = hostile(sb, 'proc-abs', { prepare: (r) => plantLink(r, 'proc', host.target('proc')) });
      assertRefused(sb, c, sb.runts(['create', '--bundle', c.bundle, c.id]), /\/proc/);
    }));

  test('/sys -> a relative ../../.. chain to a host dir is refused', () =>
    guarded((host) => {
      const c = hostile(sb, 'sys-rel', { prepare: (r) => plantLink(r, 'sys', `${UP}${host.dir}`) });
      assertRefused(sb, c, sb.runts(['create', '--bundle', c.bundle, c.id]), /\/sys/);
    }));

  test('/sys/fs -> /proc/self/root/<host dir> (no /sys mount): the cgroup mount lands inside the rootfs', () =>
    guarded((host) => {
      const c = hostile(sb, 'sysfs-selfroot', {
        edit: (s) => withoutMount(s, '/sys'),
        prepare: (r) => plantLink(r, 'sys/fs', `/proc/self/root${host.target('sysfs')}`),
      });
      assertInsideOrRefused(sb, c, sb.runts(['run', '--bundle', c.bundle, c.id]), () => undefined);
    }));

  test('/sys/fs/cgroup -> /proc/1/root/<host dir> (no /sys mount)', () =>
    guarded((host) => {
      const c = hostile(sb, 'cgroup-1root', {
        edit: (s) => withoutMount(s, '/sys'),
        prepare: (r) => plantLink(r, 'sys/fs/cgroup', `/proc/1/root${host.dir}`),
      });
      assertInsideOrRefused(sb, c, sb.runts(['run', '--bundle', c.bundle, c.id]), () => undefined);
    }));

  // runc 1.1.5 resolves the link through the procfs it mounted (/proc/self/root is the rootfs) and binds at
  // <rootfs><secret>, where the container's /etc/hostname link leads; refusing a destination through a magic link
  // (RESOLVE_NO_MAGICLINKS) is as good.
  test('/etc/hostname -> /proc/self/root/<host secret> under a bind of the bundle\'s file: refused or inside', () =>
    guarded((host) => {
      const c = hostile(sb, 'hostname-bind', {
        edit: (s) => {
          s.mounts!.push({ destination: '/etc/hostname', type: 'bind', source: 'hostname-file', options: ['rbind', 'rw'] });
          s.process!.args = ['/bin/sh', '-c', 'cat /etc/hostname; echo overwritten > /etc/hostname; true'];
        },
        prepare: (r) => plantLink(r, 'etc/hostname', `/proc/self/root${host.secret}`),
      });
      writeFileSync(join(c.bundle, 'hostname-file'), 'from-bundle\n');
      const r = sb.runts(['run', '--bundle', c.bundle, c.id], { cwd: c.bundle });
      assertInsideOrRefused(sb, c, r, (out) => assert.equal(out, 'from-bundle\n', 'the container saw the bundle\'s file, not the host secret'));
    }));

  test('/etc/resolv.conf -> a ../../.. chain to the host secret, under a bind', () =>
    guarded((host) => {
      const c = hostile(sb, 'resolv-bind', {
        edit: (s) => {
          s.mounts!.push({ destination: '/etc/resolv.conf', type: 'bind', source: 'resolv-file', options: ['rbind', 'rw'] });
          s.process!.args = ['/bin/sh', '-c', 'cat /etc/resolv.conf; echo overwritten > /etc/resolv.conf; true'];
        },
        prepare: (r) => plantLink(r, 'etc/resolv.conf', `${UP}${host.secret}`),
      });
      writeFileSync(join(c.bundle, 'resolv-file'), 'nameserver 192.0.2.1\n');
      const r = sb.runts(['run', '--bundle', c.bundle, c.id], { cwd: c.bundle });
      assertInsideOrRefused(sb, c, r, (out) => assert.equal(out, 'nameserver 192.0.2.1\n'));
    }));

  test('process.cwd through a rootfs link to /proc/self/root/<host dir> stays inside the rootfs', () =>
    guarded((host) => {
      const c = hostile(sb, 'cwd-link', {
        edit: (s) => {
          s.process!.cwd = '/work/sub';
          s.process!.args = ['/bin/sh', '-c', 'ls -a; echo x > planted-by-cwd'];
        },
        prepare: (r) => plantLink(r, 'work', `/proc/self/root${host.dir}`),
      });
      assertInsideOrRefused(sb, c, sb.runts(['run', '--bundle', c.bundle, c.id]), (out) => assert.doesNotMatch(out, /inner/, 'the host dir is not listed'));
    }));

  test('process.cwd = /proc/1/root/<host dir> stays inside the rootfs', () =>
    guarded((host) => {
      const c = hostile(sb, 'cwd-1root', {
        edit: (s) => {
          s.process!.cwd = `/proc/1/root${host.dir}`;
          s.process!.args = ['/bin/sh', '-c', 'ls -a; echo x > planted-by-cwd'];
        },
      });
      assertInsideOrRefused(sb, c, sb.runts(['run', '--bundle', c.bundle, c.id]), (out) => assert.doesNotMatch(out, /inner/));
    }));
});
