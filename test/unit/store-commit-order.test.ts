import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const STORE_URL = pathToFileURL(path.join(REPO, 'src/persistence/store.ts')).href;
const NATIVE_URL = pathToFileURL(path.join(REPO, 'src/native/index.ts')).href;
const hasStrace = spawnSync('strace', ['-V']).status === 0;

/**
 * Runs `writes` (code using `store` and `facts(id)`, after three containers c1..c3 were inserted) under strace and
 * returns what it did to the data file, in order: 'page' (a page written), 'meta' (a 128-byte meta page written),
 * 'sync' (fdatasync/fsync) — the order that decides when other processes see a commit and when it is on disk.
 */
function traceWrites(writes: string): string[] {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-commit-order-'));
  try {
    const script = `
      import fs from 'node:fs';
      import { Store } from ${JSON.stringify(STORE_URL)};
      import { nativePort } from ${JSON.stringify(NATIVE_URL)};
      const store = Store.open(process.env.RUNTS_ROOT, nativePort());
      const facts = (id) => ({ id, bundle: '/b', rootfs: '/b/rootfs', sandboxId: id, initPid: 1, initStartTime: null, goferPid: 0,
        cgroupPath: '', created: '', owner: 'root', annotations: {}, creatorPid: 1, creatorStartTime: null });
      for (const id of ['c1', 'c2', 'c3']) store.insert({ facts: facts(id), snapshot: { value: 'created' }, schemaVersion: 1, machineVersion: '1' });
      fs.existsSync('/runts-commit-order-begin');
      ${writes}
      fs.existsSync('/runts-commit-order-end');
    `;
    const r = spawnSync(
      'strace',
      ['-f', '-y', '-qq', '-e', 'trace=pwrite64,fdatasync,fsync,access,faccessat,faccessat2,statx,newfstatat,stat', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: REPO, env: { ...process.env, RUNTS_ROOT: root }, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stderr.split('\n');
    const begin = lines.findIndex((l) => l.includes('/runts-commit-order-begin'));
    const end = lines.findIndex((l) => l.includes('/runts-commit-order-end'));
    assert.ok(begin >= 0 && end > begin, `markers not traced:\n${r.stderr.slice(-2000)}`);
    return lines
      .slice(begin + 1, end)
      .filter((l) => l.includes('runts.mdb>'))
      .map((l) => (/fdatasync|fsync/.test(l) ? 'sync' : /, 128, \d+\) = 128/.test(l) ? 'meta' : 'page'));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

describe('a store commit', { skip: hasStrace ? false : 'strace is not installed (scripts/setup.sh installs it)' }, () => {
  it('is visible before it is flushed, and flushed before the write returns', () => {
    const commit = traceWrites(`store.update('c1', 1, { snapshot: { value: 'stopped' } });`);
    const firstSync = commit.indexOf('sync');
    assert.ok(firstSync > 0, `no flush in the commit: ${commit.join(' ')}`);
    // Visible (the new meta page written) before the first flush: readers do not wait for the disk.
    assert.ok(commit.slice(0, firstSync).includes('meta'), `meta written only after the flush: ${commit.join(' ')}`);
    // Durable before update() returned: a flush and then the meta that marks the snapshot flushed.
    assert.equal(commit.at(-1), 'meta', `the commit does not end with the flushed meta: ${commit.join(' ')}`);
  });

  it('of a batch holds all its writes: one flush for three updates, a lost compare-and-set skipped', () => {
    const separate = traceWrites(`for (const id of ['c1', 'c2', 'c3']) store.update(id, 1, { snapshot: { value: 'stopped' } });`);
    assert.equal(separate.filter((e) => e === 'sync').length, 3, separate.join(' '));
    const batched = traceWrites(`
      const lost = store.transaction(() => ['c1', 'c2', 'c3'].map((id) => {
        try { store.update(id, id === 'c2' ? 7 : 1, { snapshot: { value: 'stopped' } }); return null; } catch (e) { return e.message; }
      }));
      if (JSON.stringify(lost) !== JSON.stringify([null, 'container "c2" changed concurrently, retry', null])) throw new Error(JSON.stringify(lost));
      const values = ['c1', 'c2', 'c3'].map((id) => store.get(id).snapshot.value).join(',');
      if (values !== 'stopped,created,stopped') throw new Error(values);
    `);
    assert.equal(batched.filter((e) => e === 'sync').length, 1, batched.join(' '));
  });
});
