import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  DB_FILE,
  FEED_LIMIT,
  HISTORY_LIMIT,
  SCHEMA_VERSION,
  Store,
  StoreError,
  type ContainerFacts,
  type NewTransition,
} from '../../src/persistence/store.js';
import { sampleFacts } from '../helpers/facts.js';
import { nativePort } from '../../src/native/index.js';

function facts(id: string): ContainerFacts {
  return sampleFacts(id, { 'io.kubernetes.cri.container-type': 'sandbox' });
}

function record(id: string) {
  return { facts: facts(id), snapshot: { value: { creating: 'pending' } }, schemaVersion: SCHEMA_VERSION, machineVersion: 'container/1' };
}

function step(id: string, from: string, to: string, event = 'container.start'): NewTransition {
  return { id, from, to, event, time: '2024-01-02T03:04:05.000Z', pid: 100 };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StoreError, `expected a StoreError, got ${String(e)}`);
    return e.code;
  }
  assert.fail('expected an error');
}

describe('store', () => {
  let dir: string;
  let store: Store;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-store-'));
    store = Store.open(path.join(dir, 'root'), nativePort());
  });
  after(() => {
    store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('inserts only if absent', () => {
    const rec = store.insert(record('alpha'), [step('alpha', 'creating.pending', 'creating.spawning', 'container.create')]);
    assert.equal(rec.version, 1);
    assert.deepEqual(store.get('alpha'), rec);
    assert.equal(store.get('nope'), undefined);
    let err: unknown;
    try {
      store.insert({ ...record('alpha'), snapshot: { other: true } });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof StoreError);
    assert.equal(err.code, 'exists');
    assert.equal(err.message, 'container "alpha" already exists');
    assert.deepEqual(store.get('alpha')?.snapshot, { value: { creating: 'pending' } }, 'the loser changed nothing');
    assert.equal(store.history('alpha').length, 1, 'the loser appended no history');
  });

  it('compare-and-set refuses a stale version and changes nothing', () => {
    store.insert(record('cas'));
    const v2 = store.update('cas', 1, { snapshot: { value: { created: 'idle' } } }, [step('cas', 'creating.spawning', 'created.idle')]);
    assert.equal(v2.version, 2);
    assert.deepEqual(v2.facts, facts('cas'), 'facts kept when only the snapshot changes');
    let err: unknown;
    try {
      store.update('cas', 1, { snapshot: { value: { stopped: 'idle' } } }, [step('cas', 'x', 'y')]);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof StoreError);
    assert.equal(err.code, 'conflict');
    assert.equal(err.message, 'container "cas" changed concurrently, retry');
    assert.deepEqual(store.get('cas'), v2);
    assert.equal(store.history('cas').length, 1);
    const v3 = store.update('cas', 2, { facts: { ...facts('cas'), initPid: 7 } });
    assert.equal(v3.version, 3);
    assert.equal(v3.facts.initPid, 7);
    assert.deepEqual(v3.snapshot, { value: { created: 'idle' } });
    assert.equal(codeOf(() => store.update('ghost', 1, {})), 'not_found');
  });

  it('appends transitions atomically with increasing seq', () => {
    store.insert(record('seq'), [step('seq', 'a', 'b'), step('seq', 'b', 'c')]);
    store.update('seq', 1, {}, [step('seq', 'c', 'd'), { ...step('seq', 'd', 'e'), exitStatus: 137 }]);
    const all = store.history('seq');
    assert.deepEqual(all.map((t) => t.seq), [1, 2, 3, 4]);
    assert.deepEqual(all.map((t) => `${t.from}>${t.to}`), ['a>b', 'b>c', 'c>d', 'd>e']);
    assert.equal(all[3].exitStatus, 137);
    assert.deepEqual(store.history('seq', { after: 2 }).map((t) => t.seq), [3, 4]);
    // A failed CAS appends none of its transitions.
    assert.equal(codeOf(() => store.update('seq', 1, {}, [step('seq', 'e', 'f')])), 'conflict');
    assert.equal(store.history('seq').length, 4);
    // Ids that share a prefix keep separate histories.
    store.insert(record('seq.2'), [step('seq.2', 'p', 'q')]);
    assert.deepEqual(store.history('seq.2').map((t) => t.seq), [1]);
    assert.equal(store.history('seq').length, 4);
  });

  it('keeps history after removal, continues seq on reuse, and purges on request', () => {
    store.insert(record('gone'), [step('gone', 'a', 'b')]);
    store.update('gone', 1, {}, [step('gone', 'b', 'c')]);
    assert.equal(codeOf(() => store.remove('gone', 1, [step('gone', 'stale', 'stale')])), 'conflict');
    store.remove('gone', 2, [step('gone', 'c', 'deleted', 'xstate.done.actor.destroyContainer')]);
    assert.equal(store.get('gone'), undefined);
    assert.equal(codeOf(() => store.remove('gone')), 'not_found');
    assert.deepEqual(store.history('gone').map((t) => t.to), ['b', 'c', 'deleted']);
    store.insert(record('gone'), [step('gone', 'x', 'y')]);
    assert.deepEqual(store.history('gone').map((t) => t.seq), [1, 2, 3, 4]);
    store.remove('gone');
    store.purgeHistory('gone');
    assert.deepEqual(store.history('gone'), []);
  });

  it('keeps the newest history seq in the record, and finds the real newest when the record is behind', () => {
    const v1 = store.insert(record('hs'), [step('hs', 'a', 'b')]);
    assert.equal(v1.historySeq, 1);
    const v2 = store.update('hs', 1, {}, [step('hs', 'b', 'c'), step('hs', 'c', 'd')]);
    assert.equal(v2.historySeq, 3);
    assert.equal(store.get('hs')?.historySeq, 3, 'stored with the record');
    const v3 = store.update('hs', 2, { snapshot: { value: 'x' } });
    assert.equal(v3.historySeq, 3, 'kept by a write without transitions');
    // A runts without historySeq appended two entries and kept the record's (now stale) value: the next write must
    // go on after them, not overwrite them.
    const raw = store as unknown as { write(body: () => void): void; transitions: { putSync(key: unknown, value: unknown): void } };
    raw.write(() => {
      raw.transitions.putSync(['hs', 4], { ...step('hs', 'd', 'e'), id: 'hs', seq: 4 });
      raw.transitions.putSync(['hs', 5], { ...step('hs', 'e', 'f'), id: 'hs', seq: 5 });
    });
    const v4 = store.update('hs', 3, {}, [step('hs', 'f', 'g')]);
    assert.equal(v4.historySeq, 6);
    assert.deepEqual(store.history('hs').map((t) => `${t.seq}:${t.to}`), ['1:b', '2:c', '3:d', '4:e', '5:f', '6:g']);
    // History purged under a live record: the seq starts again, as it did before historySeq.
    store.purgeHistory('hs');
    assert.equal(store.update('hs', 4, {}, [step('hs', 'g', 'h')]).historySeq, 1);
    assert.deepEqual(store.history('hs').map((t) => t.seq), [1]);
  });

  it('keeps the stored spec when an update gives facts without one (split, or inline in an older record)', () => {
    const spec = { ociVersion: '1.2.0', root: { path: 'rootfs' } };
    store.insert({ ...record('sp'), facts: { ...facts('sp'), spec } });
    const raw = store as unknown as { write(body: () => void): void; records: { putSync(key: unknown, value: unknown): void; get(key: unknown): { facts: object } } };
    assert.equal('spec' in raw.records.get('sp').facts, false, 'stored apart from the record');
    store.update('sp', 1, { facts: { ...facts('sp'), initPid: 1 } });
    assert.deepEqual(store.get('sp')?.facts.spec, spec);
    assert.equal(store.get('sp')?.facts.initPid, 1);
    const changed = { ...spec, hostname: 'new' };
    store.update('sp', 2, { facts: { ...facts('sp'), spec: changed } });
    assert.deepEqual(store.get('sp')?.facts.spec, changed, 'facts with a spec replace it');
    // A record written before the split holds its spec inline; an update without one must carry it over.
    raw.write(() => raw.records.putSync('old', { ...record('old'), facts: { ...facts('old'), spec }, version: 1 }));
    store.update('old', 1, { facts: { ...facts('old'), initPid: 2 } });
    assert.deepEqual(store.get('old')?.facts.spec, spec);
    assert.equal(store.get('old')?.facts.initPid, 2);
  });

  it(`bounds history to the last ${HISTORY_LIMIT} per id`, () => {
    store.insert(record('long'));
    const many = Array.from({ length: HISTORY_LIMIT + 5 }, (_, i) => step('long', `s${i}`, `s${i + 1}`));
    store.update('long', 1, {}, many);
    const h = store.history('long');
    assert.equal(h.length, HISTORY_LIMIT);
    assert.equal(h[0].seq, 6);
    assert.equal(h.at(-1)?.seq, HISTORY_LIMIT + 5);
    store.update('long', 2, {}, [step('long', 'z', 'z')]);
    assert.equal(store.history('long')[0].seq, 7);
  });

  it('resolves exact ids, unique prefixes, and reports ambiguous / not found', () => {
    for (const id of ['web', 'web-1', 'web-2', 'db-main']) store.insert(record(`r.${id}`));
    assert.equal(store.resolveId('r.web'), 'r.web', 'exact match wins over longer ids');
    assert.equal(store.resolveId('r.db'), 'r.db-main');
    assert.equal(store.resolveId('r.web-2'), 'r.web-2');
    let err: unknown;
    try {
      store.resolveId('r.web-');
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof StoreError);
    assert.equal(err.code, 'ambiguous');
    assert.equal(err.message, 'id "r.web-" is ambiguous: "r.web-1", "r.web-2"');
    assert.equal(codeOf(() => store.resolveId('r.x')), 'not_found');
    assert.equal(codeOf(() => store.resolveId('r.web-3')), 'not_found');
    assert.equal(codeOf(() => store.resolveId('')), 'not_found');
  });

  it('lists ids and records sorted', () => {
    const ids = store.ids();
    assert.deepEqual(ids, [...ids].sort());
    assert.ok(ids.includes('alpha') && ids.includes('r.web-1'));
    assert.deepEqual(store.list().map((r) => r.facts.id), ids);
  });
});

// The feed: every transition of every container, one run of cursors written by any number of handles (processes),
// bounded to FEED_LIMIT entries.
describe('store feed', () => {
  let dir: string;
  let a: Store;
  let b: Store;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-feed-'));
    a = Store.open(dir, nativePort());
    b = Store.open(dir, nativePort());
  });
  after(() => {
    a?.close();
    b?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('goes on after the newest entry whichever handle wrote it', () => {
    a.insert(record('f1'), [step('f1', '', 'x'), step('f1', 'x', 'y')]);
    b.insert(record('f2'), [step('f2', '', 'x')]);
    a.update('f1', 1, {}, [step('f1', 'y', 'z')]); // a's own last cursor (2) is no longer the newest
    b.update('f2', 1, {}, [step('f2', 'x', 'y')]);
    b.update('f2', 2, {}, [step('f2', 'y', 'z')]);
    assert.deepEqual(a.feedAfter(0).map((e) => `${e.cursor}:${e.id}:${e.seq}`), ['1:f1:1', '2:f1:2', '3:f2:1', '4:f1:3', '5:f2:2', '6:f2:3']);
    assert.equal(a.feedHead(), 6);
    assert.equal(b.feedHead(), 6);
  });

  it('finds where the feed ends without a range read when its own append was the last', () => {
    const feedOf = (s: Store) => (s as unknown as { feedDb: { getKeys(o: object): Iterable<number> } }).feedDb;
    let rangeReads = 0;
    const getKeys = feedOf(b).getKeys.bind(feedOf(b));
    feedOf(b).getKeys = (o: object) => {
      rangeReads++;
      return getKeys(o);
    };
    b.update('f2', 3, {}, [step('f2', 'z', 'q')]); // b appended last (cursor 6): two point reads say so
    assert.equal(rangeReads, 0);
    a.update('f1', 2, {}, [step('f1', 'z', 'q')]);
    b.update('f2', 4, {}, [step('f2', 'q', 'r')]); // a appended since: b reads where the feed ends
    assert.equal(rangeReads, 1);
    assert.deepEqual(b.feedAfter(5).map((e) => `${e.cursor}:${e.id}`), ['6:f2', '7:f2', '8:f1', '9:f2']);
    feedOf(b).getKeys = getKeys;
  });

  it(`keeps the newest ${FEED_LIMIT} entries, and trims an older, longer feed whole`, () => {
    const raw = a as unknown as { write(body: () => void): void; feedDb: { putSync(key: number, value: unknown): void } };
    // A feed longer than the limit (a runts with a larger one wrote it): cursors 10 .. FEED_LIMIT + 9, untrimmed.
    raw.write(() => {
      for (let cursor = 10; cursor <= FEED_LIMIT + 9; cursor++) raw.feedDb.putSync(cursor, { ...step('f1', 'z', 'z'), id: 'f1', seq: 4, cursor });
    });
    a.update('f1', 3, {}, [step('f1', 'z', 'w')]);
    const cursors = () => a.feedAfter(0, FEED_LIMIT * 2).map((e) => e.cursor);
    assert.deepEqual([cursors().length, cursors()[0], cursors().at(-1)], [FEED_LIMIT, 11, FEED_LIMIT + 10]);
    // From then on each append trims exactly what it pushed past the limit.
    b.update('f2', 5, {}, [step('f2', 'z', 'a'), step('f2', 'a', 'b')]);
    a.update('f1', 4, {}, [step('f1', 'w', 'v')]);
    assert.deepEqual([cursors().length, cursors()[0], cursors().at(-1)], [FEED_LIMIT, 14, FEED_LIMIT + 13]);
  });
});

describe('store files', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-store-modes-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const mode = (p: string) => fs.statSync(p).mode & 0o777;

  it('creates the root 0700 (with any missing parents) and the database files 0600', () => {
    const root = path.join(dir, 'new', 'root');
    const oldUmask = process.umask(0o022);
    try {
      const s = Store.open(root, nativePort());
      s.close();
    } finally {
      process.umask(oldUmask);
    }
    assert.equal(mode(root), 0o700);
    assert.equal(mode(path.join(dir, 'new')), 0o700);
    assert.equal(mode(path.join(root, DB_FILE)), 0o600);
    assert.equal(mode(path.join(root, `${DB_FILE}-lock`)), 0o600);
  });

  it('leaves an existing root as it is', () => {
    const root = path.join(dir, 'existing');
    fs.mkdirSync(root, { mode: 0o755 });
    fs.chmodSync(root, 0o755);
    Store.open(root, nativePort()).close();
    assert.equal(mode(root), 0o755);
    assert.equal(mode(path.join(root, DB_FILE)), 0o600);
  });

  it('reopens and sees earlier writes', () => {
    const root = path.join(dir, 'reopen');
    const a = Store.open(root, nativePort());
    a.insert(record('keep'), [step('keep', 'a', 'b')]);
    a.close();
    const b = Store.open(root, nativePort());
    try {
      assert.equal(b.get('keep')?.version, 1);
      assert.equal(b.history('keep').length, 1);
    } finally {
      b.close();
    }
  });

  it('refuses a damaged database file with a one-line error naming it and the fix (lmdb itself would crash)', () => {
    const root = path.join(dir, 'damaged');
    fs.mkdirSync(root);
    fs.writeFileSync(path.join(root, DB_FILE), Buffer.alloc(20_000, 0x78));
    let err: unknown;
    try {
      Store.open(root, nativePort());
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof StoreError);
    assert.match(err.message, /state database .*runts\.mdb is damaged \(.*\): run "runts --root .* repair"/);
    assert.doesNotMatch(err.message, /\n/);
  });

  it('fails with a StoreError naming the root when it cannot be created', () => {
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, '');
    let err: unknown;
    try {
      Store.open(path.join(file, 'root'), nativePort());
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof StoreError);
    assert.equal(err.code, 'sys');
    assert.match(err.message, /a-file\/root/);
  });
});
