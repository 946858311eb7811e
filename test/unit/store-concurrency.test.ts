import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { STORE_LOCK_FILE, SCHEMA_VERSION, Store } from '../../src/persistence/store.js';
import { nativePort } from '../../src/native/index.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const STORE_URL = pathToFileURL(path.join(REPO, 'src/persistence/store.ts')).href;
const NATIVE_URL = pathToFileURL(path.join(REPO, 'src/native/index.ts')).href;

// Every child opens the store, prints "ready", waits for one line on stdin (the starting gun, so
// they really race), runs its body, prints one JSON result line and exits without closing the
// store: a process exiting right after a write must not lose it.
const PRELUDE = `
import { Store } from ${JSON.stringify(STORE_URL)};
import { nativePort } from ${JSON.stringify(NATIVE_URL)};
const store = Store.open(process.env.RUNTS_ROOT, nativePort());
const facts = (id) => ({ id, bundle: '/b', rootfs: '/b/rootfs', sandboxId: id, initPid: process.pid, initStartTime: null,
  goferPid: 0, cgroupPath: '', created: new Date().toISOString(), owner: 'root', annotations: {}, creatorPid: process.pid,
  creatorStartTime: null });
process.stdout.write('ready\\n');
await new Promise((resolve) => process.stdin.once('data', resolve));
`;

interface Child {
  proc: ChildProcess;
  ready: Promise<void>;
  result: Promise<any>;
}

function child(root: string, body: string): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PRELUDE + body], {
    cwd: REPO,
    env: { ...process.env, RUNTS_ROOT: root },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));
  proc.stdout!.on('data', (d) => {
    out += d;
    if (out.includes('ready\n')) markReady();
  });
  proc.stderr!.on('data', (d) => (err += d));
  const result = new Promise((resolve, reject) => {
    proc.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`child exited ${code}: ${err || out}`));
      else resolve(JSON.parse(last));
    });
  });
  // A child that dies before "ready" must fail the test, not hang it.
  result.catch(() => markReady());
  return { proc, ready, result };
}

async function race(root: string, n: number, body: string): Promise<any[]> {
  const kids = Array.from({ length: n }, () => child(root, body));
  try {
    await Promise.all(kids.map((k) => k.ready));
    for (const k of kids) k.proc.stdin!.write('go\n');
    return await Promise.all(kids.map((k) => k.result));
  } finally {
    for (const k of kids) if (k.proc.exitCode === null) k.proc.kill('SIGKILL');
  }
}

describe('store: several processes at once', { timeout: 120_000 }, () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-store-race-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('8 processes inserting the same id: exactly one wins', async () => {
    const root = path.join(dir, 'insert');
    const results = await race(
      root,
      8,
      `
      let outcome;
      try {
        store.insert({ facts: facts('same'), snapshot: { by: process.pid }, schemaVersion: 1, machineVersion: 'm' },
          [{ id: 'same', from: 'creating.pending', to: 'creating.spawning', event: 'container.create', time: new Date().toISOString(), pid: process.pid }]);
        outcome = 'won';
      } catch (e) {
        outcome = e.code;
      }
      console.log(JSON.stringify({ outcome, pid: process.pid }));
      process.exit(0);
      `,
    );
    const winners = results.filter((r) => r.outcome === 'won');
    assert.equal(winners.length, 1, JSON.stringify(results));
    assert.deepEqual(results.filter((r) => r.outcome !== 'won').map((r) => r.outcome), Array(7).fill('exists'));
    const store = Store.open(root, nativePort());
    try {
      const rec = store.get('same');
      assert.deepEqual(rec?.snapshot, { by: winners[0].pid }, 'the stored record is the winner’s');
      assert.equal(store.history('same').length, 1);
    } finally {
      store.close();
    }
  });

  it('8 processes × 50 CAS updates with retry: version 401, 400 transitions, unique seqs', async (t) => {
    const root = path.join(dir, 'cas');
    const seed = Store.open(root, nativePort());
    try {
      seed.insert({
        facts: { id: 'ctr', bundle: '/b', rootfs: '/b/rootfs', sandboxId: 'ctr', initPid: 1, initStartTime: null, goferPid: 0 /* the counter */, cgroupPath: '', created: '2024-01-01T00:00:00.000Z', owner: 'root', annotations: {}, creatorPid: 1, creatorStartTime: null },
        snapshot: {},
        schemaVersion: SCHEMA_VERSION,
        machineVersion: 'm',
      });
    } finally {
      seed.close();
    }
    const results = await race(
      root,
      8,
      `
      let retries = 0;
      for (let i = 0; i < 50; i++) {
        for (;;) {
          const rec = store.get('ctr');
          try {
            store.update('ctr', rec.version, { facts: { ...rec.facts, goferPid: rec.facts.goferPid + 1 } },
              [{ id: 'ctr', from: 'n' + rec.facts.goferPid, to: 'n' + (rec.facts.goferPid + 1), event: 'bump', time: new Date().toISOString(), pid: process.pid }]);
            break;
          } catch (e) {
            if (e.code !== 'conflict') throw e;
            // Fail fast instead of spinning if reads never see other processes' commits.
            if (++retries > 20000) throw new Error('CAS never succeeds: stale reads?');
          }
        }
      }
      console.log(JSON.stringify({ retries }));
      process.exit(0);
      `,
    );
    const store = Store.open(root, nativePort());
    try {
      const rec = store.get('ctr');
      assert.equal(rec?.version, 401);
      assert.equal(rec?.facts.goferPid, 400, 'no update was lost');
      const h = store.history('ctr');
      assert.equal(h.length, 400);
      assert.deepEqual(h.map((t) => t.seq), Array.from({ length: 400 }, (_, i) => i + 1));
      // Each transition was written by the update that saw the counter it names: a chain.
      h.forEach((t, i) => assert.equal(`${t.from}>${t.to}`, `n${i}>n${i + 1}`));
      assert.equal(new Set(h.map((t) => t.pid)).size, 8);
    } finally {
      store.close();
    }
    t.diagnostic(`CAS retries across processes: ${results.reduce((n, r) => n + r.retries, 0)}`);
  });

  it('a write survives the writer being SIGKILLed right after it returns', async () => {
    const root = path.join(dir, 'kill');
    await race(
      root,
      1,
      `
      store.insert({ facts: facts('durable'), snapshot: {}, schemaVersion: 1, machineVersion: 'm' });
      process.kill(process.pid, 'SIGKILL');
      `,
    ).then(
      () => assert.fail('the child should have been killed'),
      (e: Error) => assert.match(e.message, /child exited null/),
    );
    const store = Store.open(root, nativePort());
    try {
      assert.equal(store.get('durable')?.version, 1);
    } finally {
      store.close();
    }
  });

  it('keeps its lock file open between writes but holds the lock only during them', () => {
    const root = path.join(dir, 'lockheld');
    const store = Store.open(root, nativePort());
    const lockFile = path.join(root, STORE_LOCK_FILE);
    const openHere = () =>
      fs.readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`) === lockFile;
        } catch {
          return false; // the fd of the listing itself, closed meanwhile
        }
      }).length;
    // flock(1) from util-linux in another process: -n fails at once (exit 1) while anyone holds the lock.
    const othersCanLock = () => spawnSync('flock', ['-n', lockFile, 'true']).status === 0;
    try {
      store.insert({ facts: { id: 'a' } as never, snapshot: {}, schemaVersion: SCHEMA_VERSION, machineVersion: 'm' });
      assert.equal(openHere(), 1, 'the lock file stays open (one fd) after a write');
      assert.ok(othersCanLock(), 'the lock is released after the write');
      store.update('a', 1, { snapshot: { n: 1 } });
      assert.equal(openHere(), 1, 'still the same one fd: a write does not open the file again');
      assert.ok(othersCanLock());
    } finally {
      store.close();
    }
    assert.equal(openHere(), 0, 'closing the store closes the lock file');
    assert.doesNotThrow(() => store.close(), 'a second close is a no-op');
  });

  it('opening and writing wait while another process holds the store lock (writers never overlap)', async () => {
    const root = path.join(dir, 'openlock');
    const store = Store.open(root, nativePort());
    const marker = path.join(root, 'marker');
    // A process that holds the lock as a closing process would, then says "released" just before letting go.
    const holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `
        import fs from 'node:fs';
        import { nativePort } from ${JSON.stringify(pathToFileURL(path.join(REPO, 'src/native/index.ts')).href)};
        const fd = fs.openSync(${JSON.stringify(path.join(root, STORE_LOCK_FILE))}, 'a');
        nativePort().flock(fd, true);
        fs.writeFileSync(${JSON.stringify(marker)}, 'holding');
        await new Promise((r) => setTimeout(r, 300));
        fs.writeFileSync(${JSON.stringify(marker)}, 'released');
        fs.closeSync(fd);
        `,
      ],
      { cwd: REPO, stdio: 'inherit' },
    );
    try {
      while (!fs.existsSync(marker)) await new Promise((r) => setTimeout(r, 10));
      store.insert({ facts: { id: 'w' } as never, snapshot: {}, schemaVersion: SCHEMA_VERSION, machineVersion: 'm' }); // blocks until the holder lets go
      assert.equal(fs.readFileSync(marker, 'utf8'), 'released');
      assert.equal(store.get('w')?.version, 1);
    } finally {
      holder.kill('SIGKILL');
      store.close();
    }
  });
});
