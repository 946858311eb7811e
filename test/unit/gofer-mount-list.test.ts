// The gofer's mount list: the TypeScript encoder must produce exactly what src/gofer/gofer.c parses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { decodeMountList, GoferError, MountList } from '../../src/gofer/index.js';
import { MS } from '../../src/native/plan.js';

function sample(): MountList {
  return new MountList('/bundles/ü/rootfs')
    .mkdirP('/dev', 0o755)
    .mount('tmpfs', '/dev', 'tmpfs', MS.NOSUID | MS.STRICTATIME, 'mode=755,size=65536k')
    .mkfile('/etc/hosts', 0o600)
    .mount('/srv/hosts', '/etc/hosts', '', MS.BIND, '')
    .mount('', '/etc/hosts', '', MS.BIND | MS.REMOUNT | MS.RDONLY, '')
    .symlink('cpu,cpuacct', '/sys/fs/cgroup/cpu')
    .report('/evil/../dev');
}

describe('gofer mount list', () => {
  it('round-trips every entry kind through encode/decode', () => {
    const list = sample();
    const buf = list.encode();
    assert.equal(buf.readUInt32LE(0), 0x4d475452, 'magic "RTGM"');
    assert.equal(buf.readUInt32LE(4), 1, 'version');
    assert.equal(buf.readUInt32LE(8), 7, 'entry count');
    const decoded = decodeMountList(buf);
    assert.equal(decoded.root, '/bundles/ü/rootfs');
    assert.deepEqual(decoded.entries, list.entries);
    assert.deepEqual(
      decoded.entries.map((e) => e.kind),
      ['mkdir', 'mount', 'mkfile', 'mount', 'mount', 'symlink', 'report'],
    );
  });

  it('lays out an entry as the C side reads it: u32 kind, u32 mode, u64 flags, four length-prefixed strings', () => {
    const buf = new MountList('/r').mkfile('/a', 0o640).encode();
    // Header 16 + root string (4 + 2) = 22: the entry starts there.
    assert.equal(buf.readUInt32LE(22), 2, 'kind MKFILE');
    assert.equal(buf.readUInt32LE(26), 0o640, 'mode');
    assert.equal(buf.readBigUInt64LE(30), 0n, 'flags');
    assert.equal(buf.readUInt32LE(38), 0, 'a is empty');
    assert.equal(buf.readUInt32LE(42), 2, 'b is "/a"');
    assert.equal(buf.toString('utf8', 46, 48), '/a');
    assert.equal(buf.length, 48 + 4 + 4, 'c and d empty, nothing after');
  });

  it('keeps mount flags above 32 bits intact', () => {
    const flags = MS.BIND | MS.REC | MS.LAZYTIME;
    const [entry] = decodeMountList(new MountList('/').mount('a', 'b', '', flags, '').encode()).entries;
    assert.deepEqual(entry, { kind: 'mount', source: 'a', target: 'b', fstype: '', flags, data: '' });
  });

  it('refuses a NUL byte and a bad mode with a bad_config GoferError', () => {
    assert.throws(
      () => new MountList('/r').mkdirP('/a\0b').encode(),
      (e: unknown) => e instanceof GoferError && e.code === 'bad_config' && /NUL byte/.test(e.message),
    );
    assert.throws(() => new MountList('/r').mkdirP('/a', 0o17777).encode(), /bad mode/);
  });

  it('rejects truncated, foreign and padded buffers', () => {
    const buf = sample().encode();
    for (const len of [0, 3, 16, 20, buf.length - 1]) {
      assert.throws(() => decodeMountList(buf.subarray(0, len)), GoferError, `truncated to ${len}`);
    }
    const foreign = Buffer.from(buf);
    foreign.writeUInt32LE(0x504e5452, 0);
    assert.throws(() => decodeMountList(foreign), /bad magic/);
    assert.throws(() => decodeMountList(Buffer.concat([buf, Buffer.alloc(1)])), /trailing/);
  });
});
