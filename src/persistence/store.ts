/**
 * The LMDB store: container records (facts + persisted statechart snapshot) and their transition
 * history, in one LMDB environment under the state root. Many short-lived CLI processes and a
 * resident supervisor share it; writers in separate processes are serialised by runts' own lock (below).
 *
 * Layout: `<root>/runts.mdb` (+ `runts.mdb-lock`), six named databases:
 * - `containers`: id → {@link ContainerRecord}, without `facts.spec`
 * - `specs`: id → the container's OCI spec (`facts.spec`), written with its record and joined back on `get`. Kept
 *   apart because it is most of a record's bytes and `list` (every record, for `runts list`) does not need it.
 * - `history`: [id, seq] → {@link TransitionRecord} (ordered-binary array keys sort by id then seq,
 *   so one container's history is a single cheap range read)
 * - `feed`: cursor → {@link FeedEntry}: every transition of every container in commit order, keyed by a
 *   counter that only grows, written in the same transaction as the history append. Readers in any
 *   process follow it (`Runtime.events()`) by remembering the last cursor they saw.
 * - `deleted` (id → n) and `deleted-order` (n → id): the deletions whose containers' histories are kept, numbered
 *   without gaps; past DELETED_HISTORY_LIMIT, the oldest one's history is purged.
 *
 * The file is checked before LMDB maps it ({@link storeDamage}); a damaged one is refused with one line naming
 * `runts repair`, which rebuilds it ({@link Store.repair}) from the facts files of the containers' state directories.
 *
 * Every write is one synchronous transaction (`transactionSync`) that commits and fsyncs before it
 * returns, so a CLI process may exit right after a write without losing it. (On the default root, /run/runts, a
 * tmpfs on most systems, the fsync costs nothing.) Other processes see the commit before that fsync: see
 * {@link VISIBLE_THEN_FLUSHED}. lmdb-js's `noSync` and `noMetaSync` were tried for speed and
 * lost commits under concurrent writers in several processes (1 of 1,000 parallel `create`s found its own
 * record gone, with opens and closes already serialised): do not turn them on.
 *
 * Every write, and opening and closing the environment, also hold an flock of runts' own on `runts.mdb-flock`
 * (see {@link StoreLock}): without it, about one `create` in 200 run 8 at a time lost its first write.
 *
 * @example
 * ```ts
 * const store = Store.open('/run/runts', nativePort());
 * const rec = store.get(store.resolveId('web'));
 * store.update(rec.facts.id, rec.version, { snapshot }, [{ id, from, to, event, time, pid }]);
 * store.close();
 * ```
 */
import fs from 'node:fs';
import path from 'node:path';
import { open, type Database, type Key, type RootDatabase } from 'lmdb';
import type { SyscallPort } from '../native/port.js';
import { RuntsError, type ErrorCode } from '../errors.js';
import { hasFactsFiles } from './facts-file.js';
import type { Spec } from '../oci/types.js';
import type { ContainerFacts } from './facts.js';

export type { ContainerFacts };

/*
 * The LMDB file format, as lmdb-js's liblmdb (dependencies/lmdb/libraries/liblmdb/mdb.c) lays it out on a 64-bit
 * build. Page 0 and page 1 are meta pages: a 24-byte page header (pgno u64, txnid u64, pad u16, flags u16,
 * lower u16, upper u16), then MDB_meta: magic u32, version u32, address u64, mapsize u64, two MDB_db (the free
 * list, then the main db; MDB_db = pad u32 (the page size, in the first), flags u16, depth u16, branch, leaf and
 * overflow page counts u64, entries u64, root u64), last used page u64, txnid u64, boot id u64. lmdb-js's
 * overlapping sync adds a third meta — the last flushed one — half a page into page 0, from its mapsize on.
 */
const PAGE_HEADER = 24;
const LMDB_MAGIC = 0xbeefc0de;
const LMDB_DATA_VERSION = 2;
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const P_META = 0x08;
const P_LEAF2 = 0x20;
/** Node flag of a named database's entry in the main database. */
const F_SUBDATA = 0x02;
const MDB_FIXEDMAP = 0x01;
/** An empty tree's root. */
const P_INVALID = 0xffff_ffff_ffff_ffffn;
/** Far above any real transaction count; garbage usually is not. */
const MAX_TXNID = 2n ** 48n;
/** Offsets inside MDB_meta (from the end of the page header). */
const META = { magic: 0, version: 4, address: 8, psize: 24, flags: 28, freeRoot: 24 + 40, mainRoot: 72 + 40, lastPg: 120, txnid: 128 };
const META_SIZE = 144;

interface Meta {
  psize: number;
  lastPg: bigint;
  txnid: bigint;
  roots: bigint[];
}

/**
 * Why LMDB must not open this store, or undefined when it may. lmdb's native code does not check a file before it
 * maps it: garbage or a truncated file kills the process with SIGSEGV or SIGBUS, not an error. So the meta pages
 * are checked here — magic, version, page size, the last used page inside the file, a sane transaction id —
 * and the root pages they and the main database name (one pread each), so none of that reaches LMDB. A store
 * that is missing or empty while containers' state directories hold facts files lost them: damage too, not a
 * new store. (A page deeper in a tree is not read here: LMDB reports it as MDB_CORRUPTED, which the store turns
 * into the same error.)
 * @example storeDamage('/run/runts') // 'the last used page 17 is past the end of the file (8192 bytes)'
 */
export function storeDamage(root: string): string | undefined {
  const file = path.join(root, DB_FILE);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return undefined; // unreadable: open() reports it
    return hasFactsFiles(root) ? 'missing, but containers\' state directories exist' : undefined;
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) return hasFactsFiles(root) ? 'empty, but containers\' state directories exist' : undefined;
    const read = (offset: number, length: number): Buffer | undefined => {
      const buf = Buffer.allocUnsafe(length);
      return offset + length <= size && fs.readSync(fd, buf, 0, length, offset) === length ? buf : undefined;
    };
    // Both meta pages in one read at the usual page size (every read is a syscall: this runs before each command).
    const head = read(0, Math.min(size, 2 * 4096))!;
    if (head.length < PAGE_HEADER + META_SIZE) return `${size} bytes, shorter than an LMDB header`;
    const m0 = parseMeta(head, 0, true);
    if (typeof m0 === 'string') return `meta page 0: ${m0}`;
    const { psize } = m0;
    const metaAt = (offset: number) => (offset + PAGE_HEADER + META_SIZE <= head.length ? head.subarray(offset) : read(offset, PAGE_HEADER + META_SIZE));
    const page1 = metaAt(psize);
    if (!page1) return `${size} bytes, shorter than its two meta pages of ${psize} bytes`;
    const m1 = parseMeta(page1, 1, true);
    if (typeof m1 === 'string') return `meta page 1: ${m1}`;
    if (m1.psize !== psize) return `its meta pages disagree on the page size (${psize}, ${m1.psize})`;
    const metas = [m0, m1];
    // The flushed meta (overlapping sync) carries no magic; unused while its txnid is 0.
    const flushed = metaAt(psize / 2);
    if (flushed && flushed.readBigUInt64LE(PAGE_HEADER + META.txnid) !== 0n) {
      const m = parseMeta(flushed, 0, false, psize);
      if (typeof m === 'string') return `the flushed meta: ${m}`;
      metas.push(m);
    }
    const checked = new Set<bigint>();
    for (const meta of metas) {
      if ((meta.lastPg + 1n) * BigInt(psize) > BigInt(size)) return `the last used page ${meta.lastPg} is past the end of the file (${size} bytes)`;
      for (const [i, root] of meta.roots.entries()) {
        if (root === P_INVALID || checked.has(root)) continue;
        checked.add(root);
        const why = checkRoot(read, root, meta, psize, i === 1, checked);
        if (why) return why;
      }
    }
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** A meta page's fields, or what is wrong with them. `withMagic`: the flushed meta has no magic, version or flags. */
function parseMeta(buf: Buffer, pgno: number, withMagic: boolean, psize?: number): Meta | string {
  const at = (field: number) => PAGE_HEADER + field;
  if (withMagic) {
    if ((buf.readUInt16LE(18) & P_META) === 0) return 'not a meta page';
    if (buf.readBigUInt64LE(0) !== BigInt(pgno)) return 'wrong page number';
    if (buf.readUInt32LE(at(META.magic)) !== LMDB_MAGIC) return 'no LMDB magic';
    if ((buf.readUInt32LE(at(META.version)) & 0xffff) !== LMDB_DATA_VERSION) return `LMDB data version ${buf.readUInt32LE(at(META.version)) & 0xffff}`;
    if (buf.readBigUInt64LE(at(META.address)) !== 0n || (buf.readUInt16LE(at(META.flags)) & MDB_FIXEDMAP) !== 0) return 'a fixed map address';
  }
  const size = psize ?? buf.readUInt32LE(at(META.psize));
  if (size < 512 || size > 65536 || (size & (size - 1)) !== 0) return `page size ${size}`;
  const lastPg = buf.readBigUInt64LE(at(META.lastPg));
  const txnid = buf.readBigUInt64LE(at(META.txnid));
  if (lastPg < 1n) return `last used page ${lastPg}`;
  if (txnid > MAX_TXNID) return `transaction id ${txnid}`;
  const roots = [buf.readBigUInt64LE(at(META.freeRoot)), buf.readBigUInt64LE(at(META.mainRoot))];
  for (const root of roots) if (root !== P_INVALID && (root < 2n || root > lastPg)) return `a root page ${root} outside the file's used pages`;
  return { psize: size, lastPg, txnid, roots };
}

/**
 * A tree's root page: a branch or leaf page that names itself. The main database's root, when a leaf, lists the
 * named databases: their roots are checked as well (runts' tables: in a small store, every page).
 */
function checkRoot(
  read: (offset: number, length: number) => Buffer | undefined,
  pgno: bigint,
  meta: Meta,
  psize: number,
  isMain: boolean,
  checked: Set<bigint>,
): string | undefined {
  if (pgno < 2n || pgno > meta.lastPg) return `a root page ${pgno} outside the file's used pages`;
  // Only the main database's page is read whole (for its list of tables); of the others, the header.
  const page = read(Number(pgno) * psize, isMain ? psize : PAGE_HEADER);
  if (!page) return `root page ${pgno} is past the end of the file`;
  const flags = page.readUInt16LE(18);
  const lower = page.readUInt16LE(20);
  const upper = page.readUInt16LE(22);
  if (page.readBigUInt64LE(0) !== pgno || (flags & (P_BRANCH | P_LEAF | P_LEAF2)) === 0 || lower > upper || upper > psize) {
    return `page ${pgno} is not a tree page (zeroed or overwritten)`;
  }
  if (!isMain || (flags & P_LEAF) === 0) return undefined;
  for (let i = 0; i < lower / 2; i++) {
    const node = PAGE_HEADER + page.readUInt16LE(PAGE_HEADER + 2 * i);
    if (node + 8 > psize) return `page ${pgno} has a node outside it`;
    const dataSize = page.readUInt16LE(node) | (page.readUInt16LE(node + 2) << 16);
    const keySize = page.readUInt16LE(node + 6);
    if ((page.readUInt16LE(node + 4) & F_SUBDATA) === 0 || dataSize !== 48) continue;
    const data = node + 8 + keySize;
    if (data + 48 > psize) return `page ${pgno} has a node outside it`;
    const root = page.readBigUInt64LE(data + 40);
    if (root === P_INVALID || checked.has(root)) continue;
    checked.add(root);
    const why = checkRoot(read, root, meta, psize, false, checked);
    if (why) return why;
  }
  return undefined;
}

/** `rec` with its historySeq (left out when unknown, so records compare and print as before). */
function withHistorySeq(rec: ContainerRecord, historySeq: number | undefined): ContainerRecord {
  if (historySeq === undefined) {
    const { historySeq: _stale, ...rest } = rec;
    return rest;
  }
  return { ...rec, historySeq };
}

/** The one-line error for a store runts cannot use, naming the file and the fix. */
function damaged(root: string, why: string, cause?: unknown): StoreError {
  const file = path.join(root, DB_FILE);
  return new StoreError('sys', `state database ${file} is damaged (${why}): run "runts --root ${root} repair" to rebuild it from the containers' state directories`, {
    cause,
  });
}

/** An LMDB error that says the file's contents are wrong (as opposed to permissions, space, ...). */
const LMDB_DAMAGE = /MDB_INVALID|MDB_CORRUPTED|MDB_PAGE_NOTFOUND|MDB_VERSION_MISMATCH/;

/** `e` as the damaged-store error when LMDB said the file is damaged, else undefined. */
function asDamage(root: string, e: unknown): StoreError | undefined {
  const message = (e as Error)?.message ?? '';
  const m = LMDB_DAMAGE.exec(message);
  return m ? damaged(root, message.split('\n')[0], e) : undefined;
}

/** The error for a store that could not be opened. */
function openError(dir: string, cause: unknown): StoreError {
  if (cause instanceof StoreError) return cause;
  return asDamage(dir, cause) ?? new StoreError('sys', `cannot open state database in "${dir}": ${(cause as Error).message}; check --root and its permissions`, { cause });
}

/**
 * Damage LMDB reports only when a page is read: reads every entry of every table (repair's last check, under the
 * store's lock). The damage message, or undefined.
 */
function readEverything(dir: string, lock: StoreLock): string | undefined {
  if (!fs.existsSync(path.join(dir, DB_FILE))) return undefined;
  let store: Store | undefined;
  try {
    store = Store['openHeld'](dir, lock);
    store.readAll();
    return undefined;
  } catch (e) {
    const damage = asDamage(dir, e);
    if (!damage) throw e;
    return (e as Error).message.split('\n')[0];
  } finally {
    store?.['env'].close();
  }
}

/** What `Store.repair` did. */
export interface RepairOutcome {
  /** Why the store was damaged. */
  why: string;
  /** The damaged files, under their new names. */
  movedAside: string[];
  /** The ids of the records inserted into the fresh store. */
  inserted: string[];
}

/** Version of the record layout below; stored in each record so a later runts can migrate. */
export const SCHEMA_VERSION = 1;
/** How many transition records are kept per container id (oldest are dropped on append). */
export const HISTORY_LIMIT = 1000;
/** File name of the LMDB environment inside the state root. */
export const DB_FILE = 'runts.mdb';
/**
 * How many deleted containers' histories are kept: deleting one more purges the history of the one deleted longest
 * ago (`runts history --purge` drops them sooner). Each history is itself at most HISTORY_LIMIT entries.
 */
export const DELETED_HISTORY_LIMIT = 1000;
/** How many entries the global feed keeps (oldest are dropped on append). */
export const FEED_LIMIT = 10_000;

/** `next` with the spec `current` holds inline (a record written before the split) when `next` has none. */
function keepInlineSpec(next: ContainerFacts, current: ContainerFacts): ContainerFacts {
  return 'spec' in next || !('spec' in current) ? next : { ...next, spec: current.spec };
}

/** One stored container. */
export interface ContainerRecord {
  facts: ContainerFacts;
  /** The xstate persisted snapshot (plain JSON). */
  snapshot: unknown;
  schemaVersion: number;
  machineVersion: string;
  /** Compare-and-set counter: 1 after insert, +1 on every update. */
  version: number;
  /**
   * The seq of this container's newest history entry, written with it: the next write appends after it with point
   * reads, without a reverse range read over the log. Absent in records of earlier runts versions.
   */
  historySeq?: number;
}

/** One transition of one container's statechart. */
export interface TransitionRecord {
  id: string;
  /** Per-container increasing sequence number, assigned by the store. */
  seq: number;
  from: string;
  to: string;
  event: string;
  /** ISO 8601. */
  time: string;
  /** The process that made the transition. */
  pid: number;
  exitStatus?: number | null;
}

/** One entry of the global, commit-ordered feed: a transition plus its feed cursor. */
export interface FeedEntry extends TransitionRecord {
  /** Position in the feed: strictly increasing across all containers and processes. */
  cursor: number;
}

/** A transition as handed to the store (the store assigns `seq`). */
export type NewTransition = Omit<TransitionRecord, 'seq'> & { seq?: number };

/** Raised by the store; `code` says what went wrong (exists, not_found, conflict, ambiguous, sys). */
export class StoreError extends RuntsError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

type HistoryKey = [string, number];
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/**
 * lmdb-js transaction flags for every write: its default for transactionSync (3: abortable, synchronous commit) plus
 * LMDB's per-transaction MDB_NOSYNC (0x10000), which in an overlapping-sync environment means "write the new snapshot
 * unflushed (visible to every reader at once), then flush and mark it flushed before the commit returns" — not "skip
 * the flush". A watcher sees a recorded stop without waiting for the disk; the writer still returns only once the
 * commit is on disk. Checked by test/unit/store-commit-order.test.ts.
 */
const VISIBLE_THEN_FLUSHED = 0x10000 | 3;

/** runts' own cross-process lock of the store (see {@link StoreLock}). */
export const STORE_LOCK_FILE = `${DB_FILE}-flock`;

/**
 * runts' own exclusive flock on `<root>/runts.mdb-flock`, held around every write transaction and around opening
 * and closing the LMDB environment.
 *
 * Why: LMDB's own writer mutex (kept in its lock file) did not keep the writers of separate, short-lived runts
 * processes apart. Filling a root with 1,000 containers, 8 `create`s at a time, lost 1 to 5 first writes per run
 * (`container "<id>" does not exist`): another process's commit took the same LMDB transaction id. One way it
 * happens: the last process to close the environment destroys that mutex while a process opening it waits, then
 * takes it without setting it up again. Serialising only opens and closes still lost 3 of 600; serialising every
 * write as well lost none of several thousand.
 *
 * The file stays open as long as the store (every write takes the lock: opening the file each time would add a
 * system call to each) and the lock is released with LOCK_UN, not by closing: a child forked while it was held — its
 * copy of the fd lives until its exec closes it (close-on-exec) — shares the lock only until we release it.
 */
/** The one system call the store's lock needs (the injected port's). */
export type StoreLocker = Pick<SyscallPort, 'flock'>;

class StoreLock {
  private fd: number | undefined;
  /** Nesting depth of `holding` in this process: only the outermost takes and releases the flock. */
  private depth = 0;

  constructor(
    root: string,
    private readonly sys: StoreLocker,
  ) {
    this.fd = fs.openSync(path.join(root, STORE_LOCK_FILE), 'a', 0o600);
  }

  /** Runs `fn` holding the lock. */
  holding<T>(fn: () => T): T {
    if (this.fd === undefined) throw new StoreError('sys', 'the state store is closed');
    if (this.depth > 0) return fn(); // a second flock would be a no-op, its LOCK_UN would release the outer one
    const sys = this.sys;
    sys.flock(this.fd, true);
    this.depth += 1;
    try {
      return fn();
    } finally {
      this.depth -= 1;
      sys.flock(this.fd, false);
    }
  }

  get isOpen(): boolean {
    return this.fd !== undefined;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * The runts state store. Open one per process; all methods are synchronous.
 */
export class Store {
  /** Inside `transaction`: writes join it. */
  private batching = false;
  /** The newest feed cursor this handle wrote: where the feed most likely ends (see lastFeedCursor). */
  private feedHint: number | undefined;

  private constructor(
    /** The state root directory. */
    readonly root: string,
    private readonly lock: StoreLock,
    private readonly env: RootDatabase,
    private readonly records: Database<ContainerRecord, string>,
    private readonly specs: Database<unknown, string>,
    private readonly transitions: Database<TransitionRecord, HistoryKey>,
    private readonly feedDb: Database<FeedEntry, number>,
    /** id → its deletion number, and number → id: which deleted containers' histories are kept (DELETED_HISTORY_LIMIT). */
    private readonly deletedById: Database<number, string>,
    private readonly deletedOrder: Database<string, number>,
  ) {}

  /**
   * Opens (creating if needed) the store under `root`. A root we create gets mode 0700; an existing
   * root is left as it is (the admin may have chosen its mode). The LMDB files are created 0600.
   * `sys` takes the store's flock (nativePort() outside tests).
   * @example const store = Store.open('/run/runts', nativePort());
   */
  static open(root: string, sys: StoreLocker): Store {
    const dir = path.resolve(root);
    try {
      // mkdir's mode is filtered by the umask, so chmod the directories we actually created.
      const first = fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      if (first !== undefined) {
        for (let d = dir; ; d = path.dirname(d)) {
          fs.chmodSync(d, 0o700);
          if (d === first || d === path.dirname(d)) break;
        }
      }
    } catch (cause) {
      throw new StoreError('sys', `cannot create state root "${dir}": ${(cause as Error).message}; check --root and its permissions`, { cause });
    }
    let lock: StoreLock | undefined;
    try {
      lock = new StoreLock(dir, sys);
      const held = lock;
      return held.holding(() => {
        const why = storeDamage(dir);
        if (why) throw damaged(dir, why);
        return Store.openHeld(dir, held);
      });
    } catch (cause) {
      lock?.close();
      throw openError(dir, cause);
    }
  }

  /**
   * Rebuilds a damaged store (what `runts repair` runs): under the store's lock, checks it as `open` does and, when
   * it is damaged — or LMDB finds damage reading every table — moves its files aside (`runts.mdb.damaged-<time>`,
   * `runts.mdb-lock.damaged-<time>`: nothing is deleted), creates a fresh store and inserts what `rebuild` returns.
   * Returns undefined when there was nothing to repair (nothing changed).
   * @example Store.repair('/run/runts', nativePort(), () => facts.map(recordFor))
   */
  static repair(root: string, sys: StoreLocker, rebuild: () => { record: Omit<ContainerRecord, 'version'>; transitions: NewTransition[] }[]): RepairOutcome | undefined {
    const dir = path.resolve(root);
    if (!fs.existsSync(dir)) return undefined; // no root, no store: nothing to repair
    let lock: StoreLock | undefined;
    try {
      lock = new StoreLock(dir, sys);
      const held = lock;
      return held.holding(() => {
        const why = storeDamage(dir) ?? readEverything(dir, held);
        if (!why) return undefined;
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        const movedAside: string[] = [];
        for (const name of [DB_FILE, `${DB_FILE}-lock`]) {
          const from = path.join(dir, name);
          if (!fs.existsSync(from)) continue;
          const to = `${from}.damaged-${stamp}`;
          fs.renameSync(from, to);
          movedAside.push(to);
        }
        const store = Store.openHeld(dir, held);
        try {
          const inserted: string[] = [];
          store.transaction(() => {
            for (const { record, transitions } of rebuild()) {
              store.insert(record, transitions);
              inserted.push(record.facts.id);
            }
          });
          return { why, movedAside, inserted };
        } finally {
          store.env.close();
        }
      });
    } catch (cause) {
      throw openError(dir, cause);
    } finally {
      lock?.close();
    }
  }

  /** Opens the LMDB environment of `dir` (checked) and its tables; the caller holds `lock`. */
  private static openHeld(dir: string, lock: StoreLock): Store {
    const env = open({
      path: path.join(dir, DB_FILE),
      noSubdir: true,
      encoding: 'json',
      // Overlapping sync: a commit is visible to every reader before it is flushed, then flushed before
      // transactionSync returns (see write()). The previous snapshot is kept flushed, and the first process
      // to open the file after a crash of another boot goes back to it if the newest was never flushed.
      overlappingSync: true,
      usePreviousSnapshot: true,
      // A fixed, generous map (address space only: the file grows as it is written). Growing the map while
      // several runts processes write at once made transactions fail (MDB_BAD_TXN under 100 parallel creates).
      mapSize: 2 * 1024 ** 3,
      // Not in lmdb's typings, but honoured by its native open(): file mode of the data and lock files.
      permissionsMode: 0o600,
    } as Parameters<typeof open>[0] & { permissionsMode: number });
    try {
      // Creating a named database on first use is a write: done under the same lock as the open.
      const records = env.openDB<ContainerRecord, string>('containers', { encoding: 'json' });
      const specs = env.openDB<unknown, string>('specs', { encoding: 'json' });
      const transitions = env.openDB<TransitionRecord, HistoryKey>('history', { encoding: 'json' });
      const feed = env.openDB<FeedEntry, number>('feed', { encoding: 'json' });
      const deletedById = env.openDB<number, string>('deleted', { encoding: 'json' });
      const deletedOrder = env.openDB<string, number>('deleted-order', { encoding: 'json' });
      return new Store(dir, lock, env, records, specs, transitions, feed, deletedById, deletedOrder);
    } catch (e) {
      env.close();
      throw e;
    }
  }

  /**
   * Inserts a new container record only if no record has this id (so two concurrent creates of
   * one id cannot both win), with its first transitions, in one transaction.
   * @throws StoreError `exists` when the id is taken.
   */
  insert(rec: Omit<ContainerRecord, 'version'>, transitions: NewTransition[] = []): ContainerRecord {
    const id = rec.facts.id;
    let stored!: ContainerRecord;
    this.write(() => {
      if (this.records.doesExist(id)) throw new StoreError('exists', `container "${id}" already exists`);
      stored = withHistorySeq({ ...rec, version: 1 }, this.append(id, transitions));
      this.put(id, stored);
    });
    return stored;
  }

  /**
   * The record of exactly this id, or undefined. Always reads the latest committed data. `withSpec: false` leaves
   * `facts.spec` out (see the `specs` database): what recording an exit needs, at half the cost.
   */
  get(id: string, opts: { withSpec?: boolean } = {}): ContainerRecord | undefined {
    return this.read(() => {
      const rec = this.records.get(id);
      return opts.withSpec === false ? rec : this.withSpec(rec);
    });
  }

  /** All container ids, sorted. */
  ids(): string[] {
    return this.read(() => [...this.records.getKeys()]);
  }

  /**
   * All records, sorted by id. `withSpec: false` leaves `facts.spec` out (see the `specs` database): what a
   * listing of every container reads, without decoding every container's config.
   */
  list(opts: { withSpec?: boolean } = {}): ContainerRecord[] {
    return this.read(() => {
      const all = [...this.records.getRange()].map((e) => e.value);
      return opts.withSpec === false ? all : all.map((r) => this.withSpec(r)!);
    });
  }

  /**
   * Compare-and-set update: replaces facts and/or snapshot only if the stored version is still
   * `expectedVersion`, and appends the transitions (seq continues after the existing history), all
   * in one transaction.
   * @throws StoreError `not_found` (no record), `conflict` (changed concurrently: reload and retry).
   */
  update(
    id: string,
    expectedVersion: number,
    next: { facts?: ContainerFacts; snapshot?: unknown },
    transitions: NewTransition[] = [],
  ): ContainerRecord {
    let result!: ContainerRecord;
    this.write(() => {
      const current = this.records.get(id);
      if (current === undefined) throw notFound(id);
      if (current.version !== expectedVersion) throw changed(id);
      const historySeq = this.append(id, transitions, current.historySeq);
      result = withHistorySeq(
        {
          ...current,
          // The stored spec is read back only when the caller keeps the facts as they are. Facts without a spec
          // keep the stored one: it stays in `specs` as it is, or, in a record written before the split, is carried over.
          facts: next.facts === undefined ? this.withSpec(current)!.facts : keepInlineSpec(next.facts, current.facts),
          ...(next.snapshot === undefined ? {} : { snapshot: next.snapshot }),
          version: current.version + 1,
        },
        historySeq,
      );
      this.put(id, result);
    });
    return result;
  }

  /**
   * Removes a container's record (optionally only at `expectedVersion`), appending its last
   * transitions (e.g. `stopped.destroying → stopped.deleted`) in the same transaction. Its history
   * is kept (bounded by {@link HISTORY_LIMIT}, for the last {@link DELETED_HISTORY_LIMIT} deletions); drop it sooner
   * with {@link Store.purgeHistory}.
   * @throws StoreError `not_found`, or `conflict` when the version moved.
   */
  remove(id: string, expectedVersion?: number, transitions: NewTransition[] = []): void {
    this.write(() => {
      const current = this.records.get(id);
      if (current === undefined) throw notFound(id);
      if (expectedVersion !== undefined && current.version !== expectedVersion) throw changed(id);
      this.records.removeSync(id);
      this.specs.removeSync(id);
      this.append(id, transitions, current.historySeq);
      this.keepDeletedHistory(id);
    });
  }

  /** Deletes every transition record of `id`. */
  purgeHistory(id: string): void {
    this.write(() => {
      for (const key of this.transitions.getKeys(historyRange(id))) this.transitions.removeSync(key);
      this.forgetDeleted(id);
    });
  }

  /**
   * Deletes the histories of every container that has no record (the deleted ones, including those an earlier
   * runts kept without a bound); the histories of existing containers stay. Returns their ids.
   */
  purgeDeletedHistories(): string[] {
    const purged: string[] = [];
    this.write(() => {
      for (const id of this.historyIds()) {
        if (this.records.doesExist(id)) continue;
        for (const key of this.transitions.getKeys(historyRange(id))) this.transitions.removeSync(key);
        this.forgetDeleted(id);
        purged.push(id);
      }
    });
    return purged;
  }

  /** Every id with a history, sorted: one key read per id (skips over each history). */
  historyIds(): string[] {
    return this.read(() => {
      const ids: string[] = [];
      let start: HistoryKey = ['', 0];
      for (;;) {
        const next = [...this.transitions.getKeys({ start, limit: 1 })][0];
        if (next === undefined) return ids;
        ids.push(next[0]);
        start = [next[0], MAX_SEQ + 1];
      }
    });
  }

  /** The transitions of `id` in seq order, optionally only those with seq > `after`. */
  history(id: string, opts: { after?: number } = {}): TransitionRecord[] {
    return this.read(() => [...this.transitions.getRange(historyRange(id, (opts.after ?? 0) + 1))].map((e) => e.value));
  }

  /**
   * Feed entries with cursor > `after` (all containers, commit order), at most `limit` of them.
   * @example for (const e of store.feedAfter(last)) last = e.cursor;
   */
  feedAfter(after: number, limit = 1000): FeedEntry[] {
    return this.read(() => [...this.feedDb.getRange({ start: after + 1, limit })].map((e) => e.value));
  }

  /** The cursor of the newest feed entry (0 when the feed is empty): follow from here to see only new ones. */
  feedHead(): number {
    return this.read(() => this.lastFeedCursor());
  }

  /** The LMDB data file: every commit writes it, so watching it (fs.watch) wakes feed followers. */
  get dataFile(): string {
    return path.join(this.root, DB_FILE);
  }

  /**
   * Resolves a possibly abbreviated id: an exact match, else the only id starting with `partial`.
   * Reads at most two keys past the prefix (no scan of the whole table).
   * @throws StoreError `ambiguous` (naming two candidates) or `not_found`.
   */
  resolveId(partial: string): string {
    if (partial === '') throw notFound(partial);
    const candidates = this.read(() => {
      if (this.records.doesExist(partial)) return [partial];
      const found: string[] = [];
      for (const key of this.records.getKeys({ start: partial })) {
        if (!key.startsWith(partial)) break;
        found.push(key);
        if (found.length === 2) break;
      }
      return found;
    });
    if (candidates[0] === partial) return partial;
    if (candidates.length === 2) {
      throw new StoreError('ambiguous', `id "${partial}" is ambiguous: "${candidates[0]}", "${candidates[1]}"`);
    }
    if (candidates.length === 0) throw notFound(partial);
    return candidates[0];
  }

  /** Closes the environment (pending writes are already committed: every write is synchronous). */
  close(): void {
    if (!this.lock.isOpen) return; // closed already
    this.lock.holding(() => this.env.close());
    this.lock.close();
  }

  /**
   * Runs `fn` as one write transaction under the store's cross-process lock. The writes `fn` makes join it — one
   * commit, one disk flush (the resident host records a burst of exits so) — and what `fn` reads and does from
   * that (e.g. writing oom_score_adj files) is never interleaved with another runts process doing the same. A write
   * inside that fails (a lost compare-and-set) throws as usual having written nothing, and `fn` may catch it and go
   * on; an error `fn` lets out writes none of them. Keep `fn` short: every writer waits for it.
   */
  transaction<T>(fn: () => T): T {
    if (this.batching) return fn();
    let result!: T;
    this.write(() => {
      this.batching = true;
      try {
        result = fn();
      } finally {
        this.batching = false;
      }
    });
    return result;
  }

  /**
   * Notes the deletion of `id` (inside a write transaction) and, past DELETED_HISTORY_LIMIT deletions, purges the
   * history of the container of the oldest one — unless that container was deleted again since (its newer deletion
   * keeps it) or exists again. Deletions are numbered without gaps, so the count is two key reads.
   */
  private keepDeletedHistory(id: string): void {
    const newest = newestOf(this.deletedRun, undefined);
    this.deletedOrder.putSync(newest + 1, id);
    this.deletedById.putSync(id, newest + 1);
    const oldestKept = newest + 2 - DELETED_HISTORY_LIMIT;
    for (const { key: n, value: old } of this.deletedOrder.getRange({ end: Math.max(0, oldestKept) })) {
      if (this.deletedById.get(old) === n) {
        this.deletedById.removeSync(old);
        if (!this.records.doesExist(old)) for (const key of this.transitions.getKeys(historyRange(old))) this.transitions.removeSync(key);
      }
      this.deletedOrder.removeSync(n);
    }
  }

  /** Drops `id` from the deleted containers whose histories are kept (its deletion's number stays, unused). */
  private forgetDeleted(id: string): void {
    this.deletedById.removeSync(id);
  }

  private get deletedRun(): KeyRun<number> {
    return { db: this.deletedOrder, key: (n) => n, numberOf: (key) => key };
  }

  /** Reads every entry of every table (repair's check for damage LMDB sees only when it reads a page). */
  readAll(): void {
    this.read(() => {
      for (const db of [this.records, this.specs, this.transitions, this.feedDb, this.deletedById, this.deletedOrder] as Database<unknown, Key>[]) {
        for (const _ of db.getRange()) {
          // reading is the check
        }
      }
    });
  }

  /** Writes a record, its spec (when it has one) into `specs`. Inside a write transaction. */
  private put(id: string, rec: ContainerRecord): void {
    const { spec, ...facts } = rec.facts;
    if (spec === undefined) {
      this.records.putSync(id, rec);
      return;
    }
    this.records.putSync(id, { ...rec, facts: facts as ContainerFacts });
    this.specs.putSync(id, spec);
  }

  /** The record with its spec joined back (a record written before the split still holds its own). */
  private withSpec(rec: ContainerRecord | undefined): ContainerRecord | undefined {
    if (rec === undefined || 'spec' in rec.facts) return rec;
    const spec = this.specs.get(rec.facts.id);
    return spec === undefined ? rec : { ...rec, facts: { ...rec.facts, spec: spec as Spec } };
  }

  // lmdb-js reuses one read transaction until the next event-loop turn, so a process that polls
  // (e.g. a CAS retry loop) would keep seeing the snapshot from its first read. Reset it so every
  // public read sees the latest commit of any process.
  private fresh(): void {
    this.env.resetReadTxn();
  }

  /** A read of the latest commit; LMDB's word that the file is damaged becomes the damaged-store error. */
  private read<T>(fn: () => T): T {
    try {
      this.fresh();
      return fn();
    } catch (e) {
      throw asDamage(this.root, e) ?? e;
    }
  }

  private write(body: () => void): void {
    if (this.batching) return body();
    try {
      this.lock.holding(() => this.env.transactionSync(body, VISIBLE_THEN_FLUSHED));
    } catch (e) {
      if (e instanceof StoreError) throw e;
      const damage = asDamage(this.root, e);
      if (damage) throw damage;
      throw new StoreError('sys', `state database write in "${this.root}" failed: ${(e as Error).message}; check disk space and permissions`, { cause: e });
    }
  }

  /**
   * Appends inside the current write transaction and trims the history to HISTORY_LIMIT. `newestKnown`: the record's
   * historySeq. Returns the seq of the newest entry now (`newestKnown` when there was nothing to append).
   */
  private append(id: string, transitions: NewTransition[], newestKnown?: number): number | undefined {
    if (transitions.length === 0) return newestKnown;
    // The record's historySeq is only a hint: a record of an earlier runts version has none, and the history may
    // have been purged or appended by such a version since.
    const history = this.historyRun(id);
    let seq = newestOf(history, newestKnown);
    for (const t of transitions) {
      seq += 1;
      const rec: TransitionRecord = { ...t, id, seq };
      this.transitions.putSync([id, seq], rec);
    }
    trimRun(history, seq - HISTORY_LIMIT + 1, transitions.length);
    this.appendFeed(id, seq - transitions.length, transitions);
    return seq;
  }

  /**
   * The same transitions, on the global feed (same write transaction, so a follower never sees a transition the
   * history lacks). The cursor continues from the newest entry, which the write lock makes safe across processes.
   */
  private appendFeed(id: string, firstSeqMinusOne: number, transitions: NewTransition[]): void {
    let cursor = this.lastFeedCursor();
    let seq = firstSeqMinusOne;
    for (const t of transitions) {
      cursor += 1;
      seq += 1;
      this.feedDb.putSync(cursor, { ...t, id, seq, cursor });
    }
    this.feedHint = cursor;
    trimRun(this.feedRun, cursor - FEED_LIMIT + 1, transitions.length);
  }

  /** The newest feed cursor (0 for an empty feed); our own last append is the hint (another process may have appended since). */
  private lastFeedCursor(): number {
    return newestOf(this.feedRun, this.feedHint);
  }

  private historyRun(id: string): KeyRun<HistoryKey> {
    return { db: this.transitions, key: (seq) => [id, seq], numberOf: (key) => key[1] };
  }

  private get feedRun(): KeyRun<number> {
    return { db: this.feedDb, key: (cursor) => cursor, numberOf: (key) => key };
  }
}

/**
 * A run of entries keyed by consecutive numbers from 1 up — one container's history ([id, seq]) or the feed
 * (cursor) — appended at its end and trimmed at its start under the write lock, so it never has a gap.
 */
interface KeyRun<K extends Key> {
  db: Database<unknown, K>;
  key(n: number): K;
  numberOf(key: K): number;
}

/**
 * The newest number of the run (0 when it is empty). `hint` is trusted when its entry exists and none follows it —
 * two point reads instead of a reverse range read, which costs several times more on a cold write; otherwise the
 * range read finds it.
 */
function newestOf<K extends Key>(run: KeyRun<K>, hint: number | undefined): number {
  if (hint !== undefined && run.db.doesExist(run.key(hint)) && !run.db.doesExist(run.key(hint + 1))) return hint;
  for (const key of run.db.getKeys({ start: run.key(MAX_SEQ), end: run.key(0), reverse: true, limit: 1 })) return run.numberOf(key);
  return 0;
}

/**
 * Removes the entries below `oldestKept` after `appended` were added at the end. Every append trims, so what falls
 * out is what this one pushed past the limit, found with point deletes; an older entry left below them (written by
 * a runts with a larger limit) sends us to the range read, which finds them all.
 */
function trimRun<K extends Key>(run: KeyRun<K>, oldestKept: number, appended: number): void {
  if (oldestKept <= 1) return;
  const from = Math.max(1, oldestKept - appended);
  if (from > 1 && run.db.doesExist(run.key(from - 1))) {
    for (const key of run.db.getKeys({ start: run.key(0), end: run.key(oldestKept) })) run.db.removeSync(key);
  } else {
    for (let n = from; n < oldestKept; n++) run.db.removeSync(run.key(n));
  }
}

function historyRange(id: string, fromSeq = 0): { start: HistoryKey; end: HistoryKey } {
  return { start: [id, fromSeq], end: [id, MAX_SEQ] };
}

function notFound(id: string): StoreError {
  return new StoreError('not_found', `container "${id}" does not exist`);
}

function changed(id: string): StoreError {
  return new StoreError('conflict', `container "${id}" changed concurrently, retry`);
}
