// The store's check of runts.mdb before LMDB maps it (lmdb faults on a damaged file instead of returning an error),
// on files crafted from a real store: each kind of damage is named, a healthy store passes, and `Store.repair` moves
// a damaged one aside and rebuilds it (and changes nothing on a healthy one). Also the bound on deleted
// containers' histories. Offsets are LMDB's MDB_meta on a 64-bit build (liblmdb/mdb.c), written out here on their
// own so a wrong offset in the store's reading of them shows.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DB_FILE, DELETED_HISTORY_LIMIT, SCHEMA_VERSION, Store, StoreError, storeDamage, type ContainerFacts } from '../../src/persistence/store.js';
import { FACTS_FILE, writeFactsFile } from '../../src/persistence/facts-file.js';
import { repairStore } from '../../src/actors/repair.js';
import { nativePort } from '../../src/native/index.js';

const PAGE = 4096;
/** Byte offsets inside a meta page (page header 24 bytes, then MDB_meta). */
const OFF = { flags: 18, magic: 24, version: 28, address: 32, psize: 48, freeRoot: 88, mainRoot: 136, lastPg: 144, txnid: 152 };

function facts(id: string, initPid = 4242): ContainerFacts {
  return {
    id,
    bundle: `/bundles/${id}`,
    rootfs: `/bundles/${id}/rootfs`,
    sandboxId: id,
    initPid,
    initStartTime: 1,
    goferPid: 0,
    cgroupPath: `/runts-test-none/${id}`,
    created: '2024-01-02T03:04:05.000Z',
    owner: 'root',
    annotations: {},
    creatorPid: 100,
    creatorStartTime: 99,
    spec: { ociVersion: '1.2.0' },
  };
}

const record = (id: string) => ({ facts: facts(id), snapshot: { value: { created: 'idle' } }, schemaVersion: SCHEMA_VERSION, machineVersion: 'container/1' });
const step = (id: string) => ({ id, from: 'a', to: 'b', event: 'container.start', time: '2024-01-02T03:04:05.000Z', pid: 1 });

describe('store damage check', () => {
  let dir: string;
  let goodFile: string;
  let n = 0;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-store-damage-'));
    const root = path.join(dir, 'good');
    const store = Store.open(root, nativePort());
    for (const id of ['a', 'b', 'c']) store.insert(record(id), [step(id)]);
    store.close();
    goodFile = path.join(root, DB_FILE);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A root holding a copy of the good store, changed by `damage` (given the file and its bytes). */
  function crafted(damage: (file: string, data: Buffer) => void): string {
    const root = path.join(dir, `r${++n}`);
    fs.mkdirSync(root);
    const file = path.join(root, DB_FILE);
    fs.copyFileSync(goodFile, file);
    const data = fs.readFileSync(file);
    damage(file, data);
    return root;
  }
  /** Writes into the copy: `data` changed in place, then written back. */
  const edit = (change: (data: Buffer) => void) => (file: string, data: Buffer) => {
    change(data);
    fs.writeFileSync(file, data);
  };
  /** The offset of the meta page LMDB reads as the newest (the larger txnid). */
  const newest = (data: Buffer) => (data.readBigUInt64LE(PAGE + OFF.txnid) > data.readBigUInt64LE(OFF.txnid) ? PAGE : 0);

  /** `root`'s store is refused: storeDamage says `why`, and Store.open throws the one-line error naming repair. */
  function assertRefused(root: string, why: RegExp): void {
    assert.match(storeDamage(root) ?? '(none)', why);
    assert.throws(
      () => Store.open(root, nativePort()),
      (e: unknown) =>
        e instanceof StoreError &&
        e.message.startsWith(`state database ${path.join(root, DB_FILE)} is damaged (`) &&
        e.message.endsWith(`run "runts --root ${root} repair" to rebuild it from the containers' state directories`) &&
        !e.message.includes('\n'),
    );
  }

  it('passes a healthy store, which opens', () => {
    const root = crafted(() => undefined);
    assert.equal(storeDamage(root), undefined);
    Store.open(root, nativePort()).close();
  });

  it('checks the offsets it reads against a real store', () => {
    const data = fs.readFileSync(goodFile);
    for (const at of [0, PAGE]) {
      assert.equal(data.readUInt32LE(at + OFF.magic), 0xbeefc0de);
      assert.equal(data.readUInt32LE(at + OFF.version), 2);
      assert.equal(data.readUInt32LE(at + OFF.psize), PAGE);
      const lastPg = data.readBigUInt64LE(at + OFF.lastPg);
      assert.ok((lastPg + 1n) * BigInt(PAGE) <= BigInt(data.length));
      const root = data.readBigUInt64LE(at + OFF.mainRoot);
      assert.equal(data.readBigUInt64LE(Number(root) * PAGE), root, 'the main root page names itself');
    }
  });

  const cases: [string, (file: string, data: Buffer) => void, RegExp][] = [
    ['random bytes over page 0', edit((d) => d.fill(0x5a, 0, PAGE)), /^meta page 0: /],
    ['no magic in meta page 1', edit((d) => d.writeUInt32LE(0, PAGE + OFF.magic)), /^meta page 1: no LMDB magic$/],
    ['another LMDB data version', edit((d) => d.writeUInt32LE(3, OFF.version)), /^meta page 0: LMDB data version 3$/],
    ['a fixed map address', edit((d) => d.writeBigUInt64LE(0x7f0000000000n, OFF.address)), /fixed map address/],
    ['a page size that is not a power of two', edit((d) => d.writeUInt32LE(1000, OFF.psize)), /^meta page 0: page size 1000$/],
    ['meta pages disagreeing on the page size', edit((d) => d.writeUInt32LE(8192, PAGE + OFF.psize)), /disagree on the page size/],
    ['a last used page past the end', edit((d) => d.writeBigUInt64LE(1000n, newest(d) + OFF.lastPg)), /last used page 1000 is past the end of the file/],
    ['an insane transaction id', edit((d) => d.writeBigUInt64LE(1n << 60n, newest(d) + OFF.txnid)), /transaction id/],
    ['a root page among the meta pages', edit((d) => d.writeBigUInt64LE(1n, newest(d) + OFF.mainRoot)), /root page 1 outside/],
    [
      'a zeroed main root page',
      edit((d) => {
        for (const at of [0, PAGE]) d.fill(0, Number(d.readBigUInt64LE(at + OFF.mainRoot)) * PAGE, (Number(d.readBigUInt64LE(at + OFF.mainRoot)) + 1) * PAGE);
      }),
      /is not a tree page/,
    ],
    [
      "a zeroed table's root page (found through the main database)",
      edit((d) => {
        // Every leaf page that holds container "b"'s record key and nothing of the main database.
        const mains = new Set([0, PAGE].map((at) => Number(d.readBigUInt64LE(at + OFF.mainRoot))));
        for (let p = 2; p < d.length / PAGE; p++) {
          if (!mains.has(p) && d.subarray(p * PAGE, (p + 1) * PAGE).includes('/bundles/b/rootfs')) d.fill(0, p * PAGE, (p + 1) * PAGE);
        }
      }),
      /is not a tree page/,
    ],
    [
      'garbage in the flushed meta (half a page in)',
      edit((d) => {
        d.writeBigUInt64LE(5n, PAGE / 2 + OFF.txnid);
        d.writeBigUInt64LE(1n << 40n, PAGE / 2 + OFF.lastPg);
      }),
      /last used page 1099511627776 is past the end/,
    ],
    ['an insane transaction id in the flushed meta', edit((d) => d.writeBigUInt64LE(1n << 60n, PAGE / 2 + OFF.txnid)), /^the flushed meta: transaction id/],
    ['truncated to one page', (file) => fs.truncateSync(file, PAGE), /shorter than its two meta pages/],
    ['truncated to 100 bytes', (file) => fs.truncateSync(file, 100), /shorter than an LMDB header/],
    ['truncated to half', (file, d) => fs.truncateSync(file, d.length / 2), /past the end of the file/],
  ];
  for (const [name, damage, why] of cases) {
    it(`refuses ${name}`, () => assertRefused(crafted(damage), why));
  }

  it('takes an empty or missing file for a new store, unless containers have state directories', () => {
    const empty = crafted((file) => fs.writeFileSync(file, ''));
    fs.mkdirSync(path.join(empty, 'not-a-container')); // a directory without a facts file is not one
    assert.equal(storeDamage(empty), undefined);
    fs.mkdirSync(path.join(empty, 'web'));
    writeFactsFile(empty, facts('web'));
    assertRefused(empty, /^empty, but containers' state directories exist$/);
    fs.rmSync(path.join(empty, DB_FILE));
    assertRefused(empty, /^missing, but containers' state directories exist$/);
    fs.rmSync(path.join(empty, 'web', FACTS_FILE));
    assert.equal(storeDamage(empty), undefined);
  });

  it('repair moves a damaged store aside and rebuilds it from the facts files; a healthy one it leaves alone', () => {
    const root = crafted((file) => fs.truncateSync(file, PAGE));
    for (const [id, pid] of [['up', 4242], ['half-made', 0]] as const) {
      fs.mkdirSync(path.join(root, id));
      writeFactsFile(root, { ...facts(id, pid), spec: { ociVersion: '1.2.0', hooks: { poststop: [{ path: '/bin/true' }] } } });
    }
    fs.mkdirSync(path.join(root, 'stray'));
    fs.mkdirSync(path.join(root, 'partial'));
    fs.writeFileSync(path.join(root, 'partial', FACTS_FILE), JSON.stringify({ version: 1, facts: { id: 'partial', initPid: 1 } }));
    const report = repairStore(root, nativePort());
    assert.ok(report);
    assert.match(report.why, /shorter than its two meta pages/);
    assert.deepEqual(report.inserted, ['half-made', 'up']);
    assert.deepEqual(report.skipped, ['partial', 'stray'], 'a directory without a whole facts file is left alone');
    assert.deepEqual(report.movedAside.map((f) => path.basename(f).replace(/-[\dTZ-]+$/, '')), [`${DB_FILE}.damaged`]);
    assert.equal(fs.statSync(report.movedAside.find((f) => f.includes(`${DB_FILE}.damaged-`))!).size, PAGE, 'the damaged file is kept as it was');

    const store = Store.open(root, nativePort());
    try {
      assert.deepEqual((store.get('up')?.snapshot as { value: unknown }).value, { created: 'idle' });
      assert.deepEqual((store.get('half-made')?.snapshot as { value: unknown }).value, { creating: 'pending' });
      assert.equal(store.get('up')?.facts.cgroupPath, '/runts-test-none/up');
      assert.deepEqual((store.get('up')?.facts.spec as { hooks: unknown }).hooks, { poststop: [{ path: '/bin/true' }] }, 'the spec comes back');
      assert.deepEqual(store.history('up').map((t) => t.event), ['store.repaired']);
    } finally {
      store.close();
    }
    const before = fs.readFileSync(path.join(root, DB_FILE));
    const entries = fs.readdirSync(root).sort();
    assert.equal(repairStore(root, nativePort()), undefined, 'nothing to repair');
    assert.deepEqual(fs.readFileSync(path.join(root, DB_FILE)), before);
    assert.deepEqual(fs.readdirSync(root).sort(), entries);
  });
});

describe('deleted containers\' histories', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-store-deleted-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it(`keeps those of the ${DELETED_HISTORY_LIMIT} most recent deletions, never a live container's`, () => {
    const store = Store.open(path.join(dir, 'bound'), nativePort());
    try {
      // "again" is deleted first and last: its newer deletion keeps its history. "back" is deleted first, then
      // created again: it lives, so its history stays.
      for (const id of ['again', 'back']) {
        store.insert(record(id), [step(id)]);
        store.remove(id, undefined, [step(id)]);
      }
      store.insert(record('back'), [step('back')]);
      const ids = Array.from({ length: DELETED_HISTORY_LIMIT - 2 }, (_, i) => `c${i}`);
      store.transaction(() => {
        for (const id of ids) {
          store.insert(record(id), [step(id)]);
          store.remove(id, undefined, [step(id)]);
        }
      });
      assert.equal(store.history('again').length, 2, `${DELETED_HISTORY_LIMIT} deletions since "again": kept`);
      store.insert(record('again'), [step('again')]);
      store.remove('again', undefined, [step('again')]);
      const deleteOne = (id: string) => {
        store.insert(record(id), [step(id)]);
        store.remove(id, undefined, [step(id)]);
      };
      deleteOne('last');
      assert.equal(store.history('c0').length, 2, 'the oldest kept one');
      deleteOne('last2');
      assert.equal(store.history('c0').length, 0, 'purged: past the limit');
      assert.equal(store.history('c1').length, 2);
      assert.equal(store.history('again').length, 4, 'deleted again since: kept');
      assert.equal(store.history('back').length, 3, 'alive again: kept');
      assert.equal(store.history('last').length, 2);
    } finally {
      store.close();
    }
  });

  it('purgeDeletedHistories drops every deleted container\'s history and keeps the live ones', () => {
    const store = Store.open(path.join(dir, 'purge'), nativePort());
    try {
      for (const id of ['gone1', 'gone2', 'live']) store.insert(record(id), [step(id)]);
      store.remove('gone1', undefined, [step('gone1')]);
      store.remove('gone2', undefined, [step('gone2')]);
      assert.deepEqual(store.purgeDeletedHistories(), ['gone1', 'gone2']);
      assert.deepEqual(store.historyIds(), ['live']);
      assert.equal(store.history('live').length, 1);
    } finally {
      store.close();
    }
  });
});
