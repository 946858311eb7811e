import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ociState, runcStateJson } from '../../src/oci/state.js';

describe('ociState', () => {
  it('is the OCI state with pid and ociVersion 1.2.0', () => {
    assert.deepEqual(ociState({ id: 'web', status: 'created', pid: 4242, bundle: '/b' }), {
      ociVersion: '1.2.0', id: 'web', status: 'created', pid: 4242, bundle: '/b',
    });
  });

  it('reports pid 0 once stopped, and 0 when unknown', () => {
    assert.equal(ociState({ id: 'a', status: 'stopped', pid: 4242, bundle: '/b' }).pid, 0);
    assert.equal(ociState({ id: 'a', status: 'creating', bundle: '/b' }).pid, 0);
  });

  it('includes annotations only when non-empty, as a copy', () => {
    assert.equal('annotations' in ociState({ id: 'a', status: 'running', pid: 1, bundle: '/b', annotations: {} }), false);
    const annotations = { k: 'v' };
    const s = ociState({ id: 'a', status: 'running', pid: 1, bundle: '/b', annotations });
    assert.deepEqual(s.annotations, { k: 'v' });
    annotations.k = 'changed';
    assert.equal(s.annotations!.k, 'v');
  });
});

describe('runcStateJson', () => {
  it('has runc state fields in runc order', () => {
    const created = new Date('2024-05-01T10:20:30.123Z');
    const s = runcStateJson({ id: 'web', status: 'running', pid: 7, bundle: '/b', rootfs: '/b/rootfs', created, owner: 'root', annotations: { a: 'b' } });
    assert.equal(
      JSON.stringify(s),
      '{"ociVersion":"1.2.0","id":"web","pid":7,"status":"running","bundle":"/b","rootfs":"/b/rootfs","created":"2024-05-01T10:20:30.123Z","annotations":{"a":"b"},"owner":"root"}',
    );
  });

  it('keeps a created string as is, pid 0 when stopped, no empty annotations', () => {
    const s = runcStateJson({ id: 'x', status: 'stopped', pid: 7, bundle: '/b', rootfs: '/r', created: '2024-01-01T00:00:00.000000001Z', owner: '' });
    assert.equal(s.pid, 0);
    assert.equal(s.created, '2024-01-01T00:00:00.000000001Z');
    assert.equal('annotations' in s, false);
  });
});
