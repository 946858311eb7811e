import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secureJoin } from '../../src/linux/secure-join.js';

test('secureJoin keeps every path inside the root', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'runts-sj-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'real/dir'), { recursive: true });
  symlinkSync('/etc', join(root, 'etc-link')); // absolute: means <root>/etc, never the host's
  symlinkSync('../../../../..', join(root, 'real/up')); // climbs past the root
  symlinkSync('real/dir', join(root, 'rel'));
  symlinkSync('loop2', join(root, 'loop1'));
  symlinkSync('loop1', join(root, 'loop2'));

  assert.equal(secureJoin(root, '/etc-link/passwd'), join(root, 'etc/passwd'));
  assert.equal(secureJoin(root, '/real/up/etc'), join(root, 'etc'));
  assert.equal(secureJoin(root, '/../../etc/shadow'), join(root, 'etc/shadow'));
  assert.equal(secureJoin(root, 'rel/x'), join(root, 'real/dir/x'));
  assert.equal(secureJoin(root, '/missing/../../x'), join(root, 'x'));
  assert.equal(secureJoin(root, '/'), root);
  assert.throws(() => secureJoin(root, '/loop1/x'), /too many levels/);
});
