// The init resolves every path it creates, opens or mounts on inside the rootfs (issue 15): a hostile image or
// config cannot make it touch the host through /proc/self/root, /proc/1/root or a symlinked /proc or /sys; sysctls
// are written before /proc/sys becomes read-only; mounts inside /proc follow runc's allow-list; the init holds no
// descriptor of the runtime's. Each target on the host is a unique path under a temp dir that must not exist after.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, assertNoLeftovers, isRoot } from '../helpers/runts.js';
import type { Spec } from '../../src/oci/types.js';

const skip = isRoot ? false : 'needs root: real containers';

describe('init paths stay inside the rootfs', { skip }, () => {
  let sb: Sandbox;
  let host = ''; // where the host targets would appear
  before(() => {
    sb = new Sandbox();
    host = mkdtempSync(join(tmpdir(), 'runts-hostside-'));
  });
  after(() => {
    sb.cleanup();
    rmSync(host, { recursive: true, force: true });
  });

  /** `run -d` of a bundle made by `edit` (and `image` on its rootfs); returns the result. */
  function runDetached(name: string, edit: (s: Spec) => void, image: (rootfs: string) => void = () => undefined) {
    const id = sb.id(name);
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['sleep', '1000'];
      edit(s);
    });
    image(join(bundle, 'rootfs'));
    return { id, bundle, r: sb.runts(['run', '-d', '--bundle', bundle, id]) };
  }

  /** Create failed with one line naming `what`, and left nothing behind. */
  function assertRefused(x: ReturnType<typeof runDetached>, what: RegExp): void {
    assert.notEqual(x.r.status, 0, `create should fail: ${x.r.stdout}`);
    const lines = x.r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, x.r.stderr);
    assert.match(lines[0], what);
    assertNoLeftovers(sb, x.id, x.bundle);
  }

  test('image: /dev -> /proc/self/root/<host dir> makes no device node on the host', () => {
    const target = join(host, 'DEVX');
    // Without the config's /dev mounts (refused: the link leads through a /proc magic link), the init makes the
    // device nodes in the image's /dev itself: this is its in-root resolution at work.
    const noDevMounts = (s: Spec) => (s.mounts = s.mounts!.filter((m) => m.destination !== '/dev' && !m.destination.startsWith('/dev/')));
    const x = runDetached('devlink', noDevMounts, (rootfs) => {
      rmSync(join(rootfs, 'dev'), { recursive: true, force: true });
      symlinkSync(`/proc/self/root${target}`, join(rootfs, 'dev'));
    });
    assert.equal(existsSync(target), false, `host has ${target}: ${existsSync(target) ? readdirSync(target) : ''}`);
    assertRefused(x, /\/dev\/null.*ELOOP|ELOOP.*\/dev\/null/);
  });

  test('image: /sys/fs -> /proc/self/root/<host dir> makes nothing on the host; the cgroup mount lands in the container', () => {
    const target = join(host, 'IMG');
    const id = sb.id('sysfslink');
    const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sh', '-c', 'ls /sys/fs/cgroup | head -1']));
    symlinkSync(`/proc/self/root${target}`, join(bundle, 'rootfs', 'sys', 'fs'));
    const r = sb.runts(['run', '--bundle', bundle, id]);
    assert.equal(existsSync(target), false, `host has ${target}`);
    assert.equal(r.status, 0, r.stderr);
    assert.notEqual(r.stdout.trim(), '', 'the container has a cgroup mount');
  });

  test('config: a device at /proc/self/root/<host path> makes no node on the host', () => {
    const target = join(host, 'HOSTBLK');
    const x = runDetached('devpath', (s) => {
      s.linux!.devices = [{ path: `/proc/self/root${target}`, type: 'b', major: 254, minor: 0, fileMode: 0o666 }];
    });
    assert.equal(existsSync(target), false, `host has ${target}`);
    assertRefused(x, /HOSTBLK.*ELOOP/);
  });

  for (const prefix of ['/proc/self/root', '/proc/1/root']) {
    test(`config: a mount destination ${prefix}/<host path> is refused, nothing made on the host`, () => {
      const target = join(host, `MNT-${prefix.split('/')[2]}`);
      const x = runDetached('mntpath', (s) => {
        s.mounts!.push({ destination: `${prefix}${target}`, type: 'tmpfs', source: 'tmpfs' });
      });
      assert.equal(existsSync(target), false, `host has ${target}`);
      assertRefused(x, /inside \/proc/);
    });
  }

  test('a /proc or /sys that is a symlink in the image is refused', () => {
    for (const dir of ['proc', 'sys']) {
      const x = runDetached(`sym${dir}`, () => undefined, (rootfs) => {
        rmSync(join(rootfs, dir), { recursive: true, force: true });
        symlinkSync('/tmp', join(rootfs, dir));
      });
      assertRefused(x, new RegExp(`/${dir} is a symlink in the rootfs.*ordinary directory`));
    }
  });

  test('mounts inside /proc: refused except the allow-list (a bind onto /proc/uptime works)', () => {
    const x = runDetached('procsys', (s) => {
      s.mounts!.push({ destination: '/proc/sys/kernel', type: 'bind', source: '/tmp', options: ['rbind'] });
    });
    assertRefused(x, /mounts\[\d+\].*\/proc\/sys\/kernel.*inside \/proc/);

    const id = sb.id('uptime');
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['cat', '/proc/uptime'];
      s.mounts!.push({ destination: '/proc/uptime', type: 'bind', source: 'uptime', options: ['bind', 'ro'] });
    });
    writeFileSync(join(bundle, 'uptime'), '12.5 3.25\n');
    const r = sb.runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '12.5 3.25\n');
  });

  test('sysctls are written before readonlyPaths make /proc/sys read-only (the default config)', () => {
    const id = sb.id('sysctl');
    const bundle = sb.bundle(id, (s) => {
      assert.ok(s.linux!.readonlyPaths!.includes('/proc/sys'));
      s.linux!.sysctl = { 'net.ipv4.ip_unprivileged_port_start': '0', 'net/ipv4/ping_group_range': '0 2147483647' };
      s.process!.args = ['cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start', '/proc/sys/net/ipv4/ping_group_range'];
    });
    const r = sb.runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split(/\s+/), ['0', '0', '2147483647']);
  });

  test('a created container\'s init holds no descriptor of the runtime\'s (only stdio and the exec fifo)', () => {
    const id = sb.id('fds');
    const bundle = sb.bundle(id);
    const r = sb.runts(['create', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    const pid = sb.state(id).pid;
    const held = readdirSync(`/proc/${pid}/fd`)
      .filter((fd) => Number(fd) > 2)
      .map((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`));
    assert.deepEqual(held, [join(sb.root, id, 'exec.fifo')]);
  });

  test('more than 1024 env entries or args: a config error naming the field and the limit', () => {
    const env = runDetached('env', (s) => (s.process!.env = Array.from({ length: 1100 }, (_, i) => `V${i}=x`)));
    assertRefused(env, /process\.env.*1024/);
    const args = runDetached('args', (s) => (s.process!.args = ['true', ...Array.from({ length: 1100 }, (_, i) => `a${i}`)]));
    assertRefused(args, /process\.args.*1024/);
  });
});
