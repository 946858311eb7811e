import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  MOUNT_ATTR, MOUNT_OPTIONS, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, MS_RELATIME, MS_SHARED,
  MS_SLAVE, MS_STRICTATIME, MS_UNBINDABLE, parseMountOptions,
} from '../../src/oci/mount-options.js';
import { features, ROOTLESS_ANNOTATION, ROOTLESS_SUPPORT } from '../../src/oci/features.js';

describe('MS_* values', () => {
  it('match the kernel', () => {
    assert.equal(MS_RDONLY, 1);
    assert.equal(MS_BIND, 4096);
    assert.equal(MS_REC, 16384);
    assert.equal(MS_PRIVATE, 262144);
    assert.equal(MS_SLAVE, 524288);
    assert.equal(MS_SHARED, 1048576);
    assert.equal(MS_UNBINDABLE, 131072);
    assert.equal(MS_RELATIME, 2097152);
    assert.equal(MS_STRICTATIME, 16777216);
  });
});

const pick = (p: { attrSet: number; attrClr: number }) => [p.attrSet, p.attrClr];

describe('parseMountOptions', () => {
  it('splits flags from filesystem data, keeping data order', () => {
    assert.deepEqual(parseMountOptions(['nosuid', 'strictatime', 'mode=755', 'size=65536k']), {
      flags: MS_NOSUID | MS_STRICTATIME, clearFlags: 0, propagation: [], data: ['mode=755', 'size=65536k'], extensions: [],
      attrSet: 0, attrClr: 0,
    });
    assert.deepEqual(parseMountOptions(['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']).data,
      ['newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']);
  });

  it('rbind is MS_BIND | MS_REC, bind is MS_BIND', () => {
    assert.equal(parseMountOptions(['rbind', 'ro']).flags, MS_BIND | MS_REC | MS_RDONLY);
    assert.equal(parseMountOptions(['bind']).flags, MS_BIND);
  });

  it('later options win, and clearing options are reported', () => {
    const rw = parseMountOptions(['ro', 'rw']);
    assert.equal(rw.flags & MS_RDONLY, 0);
    assert.equal(rw.clearFlags, MS_RDONLY);
    const ro = parseMountOptions(['rw', 'ro']);
    assert.equal(ro.flags, MS_RDONLY);
    assert.equal(ro.clearFlags, 0);
    assert.deepEqual(parseMountOptions(['nodev', 'dev', 'suid', 'exec']), { flags: 0, clearFlags: MS_NODEV | MS_NOSUID | MS_NOEXEC, propagation: [], data: [], extensions: [], attrSet: 0, attrClr: 0 });
  });

  it('propagation options become separate values, MS_REC when recursive', () => {
    assert.deepEqual(parseMountOptions(['rprivate', 'shared', 'rslave', 'runbindable']).propagation,
      [MS_PRIVATE | MS_REC, MS_SHARED, MS_SLAVE | MS_REC, MS_UNBINDABLE | MS_REC]);
    assert.equal(parseMountOptions(['rprivate']).flags, 0);
  });

  it('sets runtime extensions aside and never matches Object.prototype names', () => {
    const p = parseMountOptions(['tmpcopyup', 'rro', 'constructor', '__proto__', 'toString', '']);
    assert.deepEqual(p.extensions, ['tmpcopyup', 'rro']);
    assert.deepEqual(p.data, ['constructor', '__proto__', 'toString']);
    assert.equal(p.flags, 0);
  });

  it('turns the r* options into recursive mount attributes, later options winning, atime modes as one field', () => {
    assert.deepEqual(pick(parseMountOptions(['rbind', 'rro'])), [MOUNT_ATTR.RDONLY, 0]);
    assert.deepEqual(pick(parseMountOptions(['rro', 'rrw'])), [0, MOUNT_ATTR.RDONLY]);
    assert.deepEqual(pick(parseMountOptions(['rnosuid', 'rnodev', 'rnoexec'])), [MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC, 0]);
    assert.deepEqual(pick(parseMountOptions(['rnoatime'])), [MOUNT_ATTR.NOATIME, MOUNT_ATTR.ATIME_MASK]);
    assert.deepEqual(pick(parseMountOptions(['rnoatime', 'rstrictatime'])), [MOUNT_ATTR.STRICTATIME, MOUNT_ATTR.ATIME_MASK]);
    assert.deepEqual(pick(parseMountOptions(['rro', 'ro'])), [MOUNT_ATTR.RDONLY, 0]);
    assert.equal(parseMountOptions(['rro']).flags, 0, 'no mount(2) flag for a recursive attribute');
  });

  it('knows every option the task lists', () => {
    for (const o of ['ro', 'rw', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec', 'sync', 'async', 'dirsync', 'remount',
      'mand', 'nomand', 'atime', 'noatime', 'diratime', 'nodiratime', 'bind', 'rbind', 'relatime', 'norelatime', 'strictatime',
      'nostrictatime', 'lazytime', 'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'unbindable', 'runbindable']) {
      assert.ok(Object.hasOwn(MOUNT_OPTIONS, o), o);
    }
  });
});

describe('features', () => {
  it('has the runc features shape', () => {
    const f = features();
    assert.equal(f.ociVersionMin, '1.0.0');
    assert.equal(f.ociVersionMax, '1.2.0');
    assert.deepEqual(f.hooks, ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
    assert.deepEqual(f.mountOptions, [...f.mountOptions].sort());
    assert.ok(f.mountOptions.includes('rbind') && f.mountOptions.includes('rprivate'));
    assert.deepEqual(f.linux.cgroup, { v1: true, v2: true, systemd: false, systemdUser: false });
    assert.equal(f.linux.seccomp.enabled, true);
    assert.deepEqual(features({ seccompEnabled: false }).linux.seccomp, { enabled: false });
    assert.equal(f.linux.capabilities[0], 'CAP_CHOWN');
    assert.equal(f.linux.capabilities.at(-1), 'CAP_CHECKPOINT_RESTORE');
    assert.equal(f.linux.capabilities.length, 41);
    assert.ok(!f.linux.namespaces.includes('time'));
    assert.equal(f.linux.seccomp.actions!.includes('SCMP_ACT_ERRNO'), true);
    assert.equal(f.linux.seccomp.actions!.includes('SCMP_ACT_NOTIFY'), true, 'a seccomp agent at listenerPath gets the listener');
    assert.deepEqual(features({ version: '0.1.0' }).annotations, { 'org.opencontainers.runts.version': '0.1.0', [ROOTLESS_ANNOTATION]: ROOTLESS_SUPPORT });
  });

  it('lists the same capabilities and namespaces as runc features, and a subset of its mount options', (t) => {
    let runc: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      runc = JSON.parse(execFileSync('runc', ['features'], { encoding: 'utf8' }));
    } catch {
      return t.skip('runc is not installed');
    }
    const f = features();
    assert.deepEqual(f.linux.capabilities, runc.linux.capabilities);
    assert.deepEqual(f.linux.namespaces, runc.linux.namespaces);
    assert.deepEqual(f.hooks, runc.hooks);
    for (const o of f.mountOptions) assert.ok(runc.mountOptions.includes(o), o);
  });
});
