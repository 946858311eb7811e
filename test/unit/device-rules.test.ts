// The device cgroup rules a container gets: its config's, then runc's default devices; a device of linux.devices
// is not opened by a rule of its own (runc keeps it closed under "deny all" too).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveResources } from '../../src/linux/device-rules.js';

describe('effectiveResources', () => {
  it('appends allow rules for the default devices after the config\'s rules, and none for linux.devices', () => {
    const out = effectiveResources({ devices: [{ allow: false, access: 'rwm' }] })!;
    assert.deepEqual(out.devices![0], { allow: false, access: 'rwm' });
    const allowed = out.devices!.slice(1).map((d) => `${d.type} ${d.major}:${d.minor} ${d.access}`);
    assert.ok(allowed.includes('c 1:3 rwm'), 'null');
    assert.ok(allowed.includes('c 136:-1 rwm'), 'the pts slaves');
    assert.ok(allowed.includes('b -1:-1 m') && allowed.includes('c -1:-1 m'), 'mknod of any node');
    assert.deepEqual(allowed.filter((r) => r.startsWith('b ')), ['b -1:-1 m'], 'no block device is opened implicitly');
  });

  it('leaves resources without device rules as they are', () => {
    assert.deepEqual(effectiveResources({ pids: { limit: 5 } }), { pids: { limit: 5 } });
    assert.equal(effectiveResources(undefined), undefined);
  });
});
