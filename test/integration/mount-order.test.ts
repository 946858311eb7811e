// The init makes every mount of the config itself, in config order, inside the rootfs: /proc first when the config
// lists it first (the kernel lists mounts in the order they were made, and the OCI suite checks that order), links
// of the image followed only inside the rootfs (a dangling one is made, as the kernel would resolve it with the
// rootfs as "/"), and never onto the kernel's files through a link into /proc or /sys. A config without a mount
// namespace runs, chrooted, with nothing mounted. The r* options ("rro"...) reach every mount below the destination.
import { after, before, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, addUserNamespace, assertNoLeftovers, isRoot } from '../helpers/runts.js';
import type { Spec } from '../../src/oci/types.js';

const skip = isRoot ? false : 'needs root: real containers';

/** Mount points of /proc/self/mountinfo, in order, as the container saw them. */
const mountPoints = (mountinfo: string) =>
  mountinfo
    .trim()
    .split('\n')
    .map((l) => l.split(' ')[4]);

describe('mounts: config order, inside the rootfs', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  test('the container sees its mounts in config order, /proc first, with later mounts on top of earlier ones', () => {
    const id = sb.id('order');
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['cat', '/proc/self/mountinfo'];
      s.mounts!.push(
        { destination: '/data', type: 'bind', source: 'data', options: ['rbind', 'ro'] },
        { destination: '/run', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/run/inner', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/data/inner', type: 'tmpfs', source: 'tmpfs' },
      );
    });
    mkdirSync(join(bundle, 'data', 'inner'), { recursive: true });
    const r = sb.runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    const seen = mountPoints(r.stdout).slice(1); // [0] is the root
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as Spec;
    const wanted = spec.mounts!.map((m) => m.destination);
    // Each config mount appears, and in config order (a cgroup mount adds one per hierarchy under it, /proc's and
    // /sys's masks come after all of them).
    const positions = wanted.map((d) => seen.indexOf(d));
    assert.ok(!positions.includes(-1), `missing mounts: ${wanted.filter((_, i) => positions[i] === -1)} in ${seen}`);
    assert.deepEqual([...positions].sort((a, b) => a - b), positions, `order seen: ${seen.join(' ')}`);
    assert.equal(seen[0], '/proc');
  });

  test('a destination behind a dangling link of the image is made where the link points, inside the rootfs', () => {
    const id = sb.id('dangling');
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['cat', '/etc/resolv.conf', '/var/lib/made/marker'];
      s.mounts!.push(
        { destination: '/etc/resolv.conf', type: 'bind', source: 'resolv', options: ['rbind', 'ro'] },
        { destination: '/var/lib/made', type: 'bind', source: 'dir', options: ['rbind', 'ro'] },
      );
    });
    writeFileSync(join(bundle, 'resolv'), 'nameserver 192.0.2.1\n');
    mkdirSync(join(bundle, 'dir'));
    writeFileSync(join(bundle, 'dir', 'marker'), 'marker\n');
    const rootfs = join(bundle, 'rootfs');
    mkdirSync(join(rootfs, 'etc'), { recursive: true });
    mkdirSync(join(rootfs, 'var'), { recursive: true });
    rmSync(join(rootfs, 'etc', 'resolv.conf'), { force: true });
    symlinkSync('../run/resolvconf/resolv.conf', join(rootfs, 'etc', 'resolv.conf')); // relative, /run has no resolvconf
    symlinkSync('/srv/lib', join(rootfs, 'var', 'lib')); // absolute: the rootfs's /srv, not the host's
    const r = sb.runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'nameserver 192.0.2.1\nmarker\n');
    assert.ok(lstatSync(join(rootfs, 'run', 'resolvconf', 'resolv.conf')).isFile());
    assert.ok(lstatSync(join(rootfs, 'srv', 'lib', 'made')).isDirectory());
    assert.equal(existsSync('/srv/lib/made'), false, 'nothing made on the host');
    assert.equal(readlinkSync(join(rootfs, 'etc', 'resolv.conf')), '../run/resolvconf/resolv.conf', 'the link itself is kept');
  });

  for (const [name, link] of [
    ['proc', '/proc/sys/kernel/core_pattern'],
    ['sys', '/sys/kernel/address_bits'],
  ] as const) {
    test(`a bind onto a link of the image into /${name} is refused with one line, and the kernel file is untouched`, () => {
      const id = sb.id(`into-${name}`);
      const before = readFileSync(link, 'utf8');
      const bundle = sb.bundle(id, (s) => {
        s.process!.args = ['true'];
        s.mounts!.push({ destination: '/etc/planted', type: 'bind', source: 'payload', options: ['rbind', 'rw'] });
      });
      writeFileSync(join(bundle, 'payload'), '|/tmp/evil\n');
      symlinkSync(link, join(bundle, 'rootfs', 'etc', 'planted'));
      const r = sb.runts(['run', '--bundle', bundle, id]);
      assert.notEqual(r.status, 0, r.stdout);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /\/etc\/planted.*leads into the container's \/proc or \/sys.*EXDEV/);
      assert.equal(readFileSync(link, 'utf8'), before);
      assertNoLeftovers(sb, id, bundle);
    });
  }

  test('a config without a mount namespace runs chrooted in the rootfs, in the runtime\'s mount namespace, with nothing mounted', () => {
    const id = sb.id('nomnt');
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['sleep', '1000'];
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
    });
    const r = sb.runts(['run', '-d', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    const pid = sb.state(id).pid;
    assert.equal(readlinkSync(`/proc/${pid}/ns/mnt`), readlinkSync('/proc/self/ns/mnt'));
    assert.equal(readlinkSync(`/proc/${pid}/root`), join(bundle, 'rootfs'));
    assert.equal(existsSync(join(bundle, 'rootfs', 'proc', 'self')), false, 'no proc mounted in the rootfs');
    writeFileSync(join(bundle, 'rootfs', 'marker'), 'in the rootfs\n');
    const e = sb.runts(['exec', id, 'cat', '/marker']);
    assert.equal(e.stdout, 'in the rootfs\n', `an exec is chrooted too: ${e.stderr}`);
    assert.equal(sb.runts(['delete', '--force', id]).status, 0);
  });
});

describe('recursive mount attributes (rro and friends)', { skip }, () => {
  let sb: Sandbox;
  let source = '';
  before(() => {
    sb = new Sandbox();
    // A host directory with a mount inside it: a plain "ro" bind leaves that submount writable, "rro" does not.
    source = join(sb.dir, 'rro-source');
    mkdirSync(join(source, 'sub'), { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', join(source, 'sub')]);
  });
  after(() => {
    try {
      execFileSync('umount', ['-l', join(source, 'sub')]);
    } catch {
      // not mounted
    }
    sb.cleanup();
  });

  for (const [options, subWritable] of [
    [['rbind', 'ro'], true],
    [['rbind', 'rro'], false],
    [['rbind', 'rro', 'rrw'], true],
  ] as const) {
    test(`${options.join(',')}: the submount is ${subWritable ? 'writable' : 'read-only'}`, () => {
      const id = sb.id('rro');
      const bundle = sb.bundle(id, (s) => {
        s.process!.args = ['/bin/sh', '-c', 'touch /data/sub/x && echo written; touch /data/top 2>/dev/null || echo top-ro'];
        s.mounts!.push({ destination: '/data', type: 'bind', source, options: [...options] });
      });
      const r = sb.runts(['run', '--bundle', bundle, id]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.includes('written'), subWritable, `${r.stdout}${r.stderr}`);
      assert.equal(r.stdout.includes('top-ro'), !(options as readonly string[]).includes('rrw'), r.stdout);
    });
  }
});

describe('bind sources a user namespace cannot search', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  test('a user-namespaced container bind-mounts a file from a 0700 directory of host root\'s, read-only when asked', () => {
    const id = sb.id('usersrc');
    const secret = join(sb.dir, 'private');
    mkdirSync(secret, { mode: 0o700 }); // the user namespace's root (uid 100000 on the host) cannot search it
    mkdirSync(join(secret, 'data'), { mode: 0o755 });
    writeFileSync(join(secret, 'data', 'f'), 'from the host\n');
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['/bin/sh', '-c', 'cat /data/f; echo x > /data/f 2>/dev/null || echo read-only'];
      addUserNamespace(s);
      s.mounts!.push({ destination: '/data', type: 'bind', source: join(secret, 'data'), options: ['rbind', 'ro'] });
    });
    mkdirSync(join(bundle, 'rootfs', 'data')); // the image's (host root's) directory: the mapped root cannot make it
    const r = sb.runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'from the host\nread-only\n');
    assert.equal(readFileSync(join(secret, 'data', 'f'), 'utf8'), 'from the host\n');
  });
});
