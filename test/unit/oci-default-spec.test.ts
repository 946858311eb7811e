import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSpec, OCI_VERSION } from '../../src/oci/default-spec.js';
import { validateSpec } from '../../src/oci/config.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function runcAvailable(): boolean {
  try {
    execFileSync('runc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `runc spec [--rootless]` in a fresh temp dir, parsed. */
function runcSpec(dirs: string[], rootless: boolean): Any {
  const dir = mkdtempSync(join(tmpdir(), 'runts-oci-spec-'));
  dirs.push(dir);
  execFileSync('runc', ['spec', ...(rootless ? ['--rootless'] : [])], { cwd: dir, stdio: 'ignore' });
  return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
}

function withoutVersion(spec: Any): Any {
  const copy = JSON.parse(JSON.stringify(spec));
  delete copy.ociVersion;
  return copy;
}

describe('defaultSpec', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const rootless of [false, true]) {
    it(`equals runc spec${rootless ? ' --rootless' : ''} except ociVersion`, (t) => {
      if (!runcAvailable()) return t.skip('runc is not installed');
      assert.deepEqual(withoutVersion(defaultSpec({ rootless })), withoutVersion(runcSpec(dirs, rootless)));
    });
  }

  it('names the spec version runts implements', () => {
    assert.equal(defaultSpec().ociVersion, '1.2.0');
    assert.equal(OCI_VERSION, '1.2.0');
  });

  it('takes args and passes its own validator', () => {
    const spec = defaultSpec({ args: ['sleep', '60'] });
    assert.deepEqual(spec.process!.args, ['sleep', '60']);
    assert.doesNotThrow(() => validateSpec(spec));
    assert.doesNotThrow(() => validateSpec(defaultSpec({ rootless: true })));
  });

  it('returns a fresh object each call', () => {
    const a = defaultSpec();
    a.process!.capabilities!.bounding!.push('CAP_SYS_ADMIN');
    a.mounts![0].destination = '/changed';
    const b = defaultSpec();
    assert.deepEqual(b.process!.capabilities!.bounding, ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);
    assert.equal(b.mounts![0].destination, '/proc');
  });

  it('rootless maps root to the caller and drops the network namespace and device rules', () => {
    const spec = defaultSpec({ rootless: true });
    assert.equal(spec.linux!.uidMappings![0].hostID, process.geteuid!());
    assert.equal(spec.linux!.gidMappings![0].hostID, process.getegid!());
    assert.ok(!spec.linux!.namespaces!.some((n) => n.type === 'network'));
    assert.ok(spec.linux!.namespaces!.some((n) => n.type === 'user'));
    assert.equal(spec.linux!.resources, undefined);
  });
});
