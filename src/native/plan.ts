/**
 * The spawn plan: an ordered list of ops that runts-init, started by the native addon, executes in the
 * container's processes (see src/native/child.cc). TypeScript decides everything (which namespaces, which mounts,
 * in which order); the C++ side only interprets. This file holds the builder, the encoder/decoder and the Linux constants
 * plans need.
 *
 * Wire format (kept identical in src/native/plan-format.h; the ops' codes and arguments come from plan-ops.ts, the
 * source of the C++ side's too). All integers little-endian:
 * ```
 * header  u32 magic = 0x504E5452, u32 version = 1, u32 opCount, u32 reserved = 0,
 *         str uidMap, str gidMap, str setgroups        (used by the parent on NEED_IDMAP; "" = skip)
 *         str uidMapper, str gidMapper                 (newuidmap/newgidmap run by the parent instead; "" = none)
 * op      u32 code, u16 numCount, u16 strCount, numCount × i64 (u64 for masks/rlimits), strCount × str
 * str     u32 len, u32 reserved = 0, len bytes, one NUL, zero padding to a multiple of 8
 * ```
 * The buffer ends right after the last op. Every record is a multiple of 8 bytes, so numbers and string
 * payloads are 8-aligned and the child uses them in place. Lists (argv, env) are entries each followed by
 * a NUL; groups are packed u32; seccomp programs are `struct sock_filter[]` (8 bytes per instruction).
 *
 * @example
 * const plan = new PlanBuilder()
 *   .unshare(CLONE.NEWNS | CLONE.NEWPID).fork()
 *   .mount('', '/', '', MS.REC | MS.PRIVATE, '')
 *   .ready().waitFifo().exec('/bin/sh', ['sh'], ['PATH=/bin']);
 * await nativePort().spawn(plan);
 */

import { PlanError } from '../errors.js';
import { PLAN_OPS, type OpNumKind, type OpStrKind, type PlanOpDef, type PlanOpTableName } from './plan-ops.js';

export const PLAN_MAGIC = 0x504e5452;
export const PLAN_VERSION = 2;

/** Limits the addon enforces (it rejects a plan that exceeds them). */
export const PLAN_LIMITS = { maxPathLen: 4095, maxListEntries: 1024, maxGroups: 65536, maxBpfInsns: 4096, maxSourceFds: 256 } as const;

/** Header strings the parent applies when the child asks for id maps (USERNS_SYNC). */
export interface PlanHeader {
  /** Written to /proc/<pid>/uid_map, e.g. "0 100000 65536". */
  uidMap?: string;
  /** Written to /proc/<pid>/gid_map. */
  gidMap?: string;
  /** Written to /proc/<pid>/setgroups before gid_map (unprivileged maps need 'deny'). */
  setgroups?: 'allow' | 'deny';
  /**
   * A setuid helper (newuidmap) the parent runs as `<helper> <pid> <containerID> <hostID> <size>...` instead of
   * writing uid_map itself: without root, only it may map the user's subordinate ids (/etc/subuid).
   */
  uidMapper?: string;
  /** Likewise newgidmap for gid_map (/etc/subgid); it decides setgroups itself. */
  gidMapper?: string;
}

export interface CapSets {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

/** One op of a plan, as recorded by the builder and returned by {@link decodePlan}. */
export type PlanOp =
  | { op: 'writeFile'; path: string; content: string }
  | { op: 'setns'; path: string; nstype: number }
  | { op: 'unshare'; flags: number }
  | { op: 'usernsSync' }
  | { op: 'fork' }
  | { op: 'mount'; source: string; target: string; fstype: string; flags: number; data: string }
  | { op: 'mkdirP'; path: string; mode: number }
  | { op: 'mkfile'; path: string; mode: number }
  | { op: 'mknod'; path: string; mode: number; dev: number }
  | { op: 'symlink'; target: string; linkpath: string }
  | { op: 'chown'; path: string; uid: number; gid: number }
  | { op: 'chmod'; path: string; mode: number }
  | { op: 'rootfsOpen'; path: string }
  | { op: 'chroot'; path: string }
  | { op: 'mountSetattr'; path: string; attrSet: number; attrClr: number }
  | { op: 'sourceOpen'; recursive: number; path: string }
  | { op: 'mountSource'; index: number; target: string }
  | { op: 'pivotRoot'; newRoot: string }
  | { op: 'maskPath'; path: string }
  | { op: 'readonlyPath'; path: string }
  | { op: 'remountReadonly'; path: string }
  | { op: 'sethostname'; name: string }
  | { op: 'setdomainname'; name: string }
  | { op: 'setrlimit'; resource: number; soft: bigint; hard: bigint }
  | { op: 'chdir'; path: string }
  | { op: 'umask'; mask: number }
  | { op: 'setsid' }
  | { op: 'setIds'; uid: number; gid: number; groups: number[] | null }
  | ({ op: 'caps' } & CapSets)
  | { op: 'noNewPrivs' }
  | { op: 'prctl'; option: number; arg: number }
  | { op: 'gate' }
  | { op: 'seccomp'; bpf: Buffer; listener: number }
  | { op: 'openFifo'; path: string }
  | { op: 'consoleConnect'; socketPath: string }
  | { op: 'consoleSetup' }
  | { op: 'closeFds'; firstFd: number }
  | { op: 'dup2'; oldFd: number; newFd: number }
  | { op: 'ready' }
  | { op: 'waitFifo' }
  | { op: 'checkExec'; path: string; env: string[] }
  | { op: 'exec'; path: string; argv: string[]; env: string[] }
  | { op: 'goferPrepare'; socketPath: string; binaryPath: string }
  | { op: 'spawnGofer'; root: string }
  | { op: 'cgroupOpen'; path: string }
  | { op: 'cgroupJoin' };

export type PlanOpName = PlanOp['op'];

type NumKind = OpNumKind;
/** How the encoder carries a string: a JS string, a string list, gids or a Buffer. */
type StrKind = 'str' | 'list' | 'gids' | 'bytes';
interface OpSpec {
  code: number;
  nums: ReadonlyArray<readonly [string, NumKind]>;
  strs: ReadonlyArray<readonly [string, StrKind]>;
}

const ENCODING: Record<OpStrKind, StrKind> = { path: 'str', cstr: 'str', bytes: 'str', list: 'list', gids: 'gids', bpf: 'bytes' };

// Every PlanOp has a row in PLAN_OPS (plan-ops.ts, the source of the C++ side's codes and arity too) and no row lacks a PlanOp.
type Missing = Exclude<PlanOpName, PlanOpTableName> | Exclude<PlanOpTableName, PlanOpName>;
const everyOpHasARow: [Missing] extends [never] ? true : Missing = true;
void everyOpHasARow;

const OPS = {} as Record<PlanOpName, OpSpec>;
for (const [name, def] of Object.entries(PLAN_OPS) as [PlanOpName, PlanOpDef][]) {
  OPS[name] = { code: def.code, nums: def.nums, strs: def.strs.map(([field, kind]) => [field, ENCODING[kind]] as const) };
}

const BY_CODE = new Map<number, [PlanOpName, OpSpec]>(
  (Object.entries(OPS) as [PlanOpName, OpSpec][]).map(([name, spec]) => [spec.code, [name, spec]]),
);

// A value the plan cannot carry (an argv entry with a NUL byte, too many env entries, a bad number) or a malformed
// buffer given to decodePlan: a PlanError with code 'bad_config' (such values come from the bundle).
export { PlanError };

type Wire = Record<string, unknown>;

function toWire(op: PlanOp): Wire {
  if (op.op === 'setIds') {
    return { uid: op.uid, gid: op.gid, setGroups: op.groups === null ? 0 : 1, groups: op.groups ?? [] };
  }
  return op as unknown as Wire;
}

function fromWire(name: PlanOpName, w: Wire): PlanOp {
  if (name === 'setIds') {
    return { op: 'setIds', uid: w.uid as number, gid: w.gid as number, groups: w.setGroups ? (w.groups as number[]) : null };
  }
  return { op: name, ...w } as PlanOp;
}

/** A string argument's value as the bytes the plan carries (a JS string is written straight into the plan instead). */
function strBytes(kind: Exclude<StrKind, 'str'>, value: unknown, where: string): Buffer {
  switch (kind) {
    case 'list': {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.includes('\0'))) {
        throw new PlanError('bad_config', `${where}: expected an array of strings without NUL bytes`);
      }
      if (value.length > PLAN_LIMITS.maxListEntries) {
        throw new PlanError('bad_config', `${where}: more than ${PLAN_LIMITS.maxListEntries} entries`);
      }
      return Buffer.from(value.map((v: string) => v + '\0').join(''), 'utf8');
    }
    case 'gids': {
      const gids = value as number[];
      const buf = Buffer.alloc(gids.length * 4);
      gids.forEach((g, i) => {
        if (!Number.isInteger(g) || g < 0 || g > 0xffffffff) throw new PlanError('bad_config', `${where}: bad gid ${g}`);
        buf.writeUInt32LE(g, i * 4);
      });
      return buf;
    }
    case 'bytes':
      if (!Buffer.isBuffer(value)) throw new PlanError('bad_config', `${where}: expected a Buffer`);
      return value;
  }
}

function strValue(kind: StrKind, bytes: Buffer): unknown {
  switch (kind) {
    case 'str':
      return bytes.toString('utf8');
    case 'list': {
      if (bytes.length === 0) return [];
      return bytes.subarray(0, bytes.length - 1).toString('utf8').split('\0');
    }
    case 'gids': {
      const out: number[] = [];
      for (let i = 0; i + 4 <= bytes.length; i += 4) out.push(bytes.readUInt32LE(i));
      return out;
    }
    case 'bytes':
      return Buffer.from(bytes);
  }
}

const padded = (n: number): number => (n + 1 + 7) & ~7;

/**
 * The plan's bytes, written in place into one zeroed buffer that doubles when full: a create's plan has a hundred
 * ops or so, and a Buffer per field (then a concat) made encoding cost as much as planning.
 */
class PlanWriter {
  private buf = Buffer.alloc(16 * 1024);
  private at = 0;

  u32(v: number): void {
    this.room(4);
    this.at = this.buf.writeUInt32LE(v, this.at);
  }

  u16(v: number): void {
    this.room(2);
    this.at = this.buf.writeUInt16LE(v, this.at);
  }

  num(kind: NumKind, value: unknown, where: (field: string) => string, field: string): void {
    this.room(8);
    if (kind === 'u64') {
      if (typeof value !== 'bigint' || value < 0n || value > 0xffffffffffffffffn) {
        throw new PlanError('bad_config', `${where(field)}: expected a bigint in [0, 2^64)`);
      }
      this.at = this.buf.writeBigUInt64LE(value, this.at);
    } else {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new PlanError('bad_config', `${where(field)}: expected an integer`);
      // Two's complement in two halves: a safe integer's high half fits an int32.
      this.buf.writeUInt32LE(value >>> 0, this.at);
      this.buf.writeInt32LE(Math.floor(value / 2 ** 32), this.at + 4);
      this.at += 8;
    }
  }

  /** A string: its length, a reserved word, then its bytes, NUL-terminated and padded to 8 (zeros). */
  str(value: string | Buffer): void {
    const len = typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
    this.room(8 + padded(len));
    this.buf.writeUInt32LE(len, this.at);
    if (typeof value === 'string') this.buf.write(value, this.at + 8, 'utf8');
    else value.copy(this.buf, this.at + 8);
    this.at += 8 + padded(len);
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.at);
  }

  private room(n: number): void {
    if (this.buf.length - this.at >= n) return;
    let size = this.buf.length * 2;
    while (size - this.at < n) size *= 2;
    const grown = Buffer.alloc(size);
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }
}

/**
 * Encodes a header and ops into the flat buffer the addon executes.
 * @throws PlanError when a value cannot be encoded.
 */
export function encodePlan(header: PlanHeader, ops: readonly PlanOp[]): Buffer {
  const out = new PlanWriter();
  out.u32(PLAN_MAGIC);
  out.u32(PLAN_VERSION);
  out.u32(ops.length);
  out.u32(0);
  for (const s of [header.uidMap ?? '', header.gidMap ?? '', header.setgroups ?? '', header.uidMapper ?? '', header.gidMapper ?? '']) out.str(s);
  ops.forEach((op, i) => {
    const spec = OPS[op.op];
    if (spec === undefined) throw new PlanError('bad_config', `op ${i}: unknown op ${String((op as { op: unknown }).op)}`);
    const w = toWire(op);
    out.u32(spec.code);
    out.u16(spec.nums.length);
    out.u16(spec.strs.length);
    // Where a bad value is, for its error (made only then: most plans have none).
    const where = (field: string) => `op ${i} (${op.op}).${field}`;
    for (const [field, kind] of spec.nums) out.num(kind, w[field], where, field);
    for (const [field, kind] of spec.strs) {
      const value = w[field];
      if (kind !== 'str') out.str(strBytes(kind, value, where(field)));
      else if (typeof value !== 'string') throw new PlanError('bad_config', `${where(field)}: expected a string`);
      else out.str(value);
    }
  });
  return out.bytes();
}

/**
 * Decodes a plan buffer (the inverse of {@link PlanBuilder.encode}); used by the fake port and tests.
 * @throws PlanError on a malformed buffer.
 */
export function decodePlan(buf: Buffer): { header: PlanHeader; ops: PlanOp[] } {
  let at = 0;
  const need = (n: number): void => {
    if (buf.length - at < n) throw new PlanError('bad_config', `invalid spawn plan at byte ${at}: truncated`);
  };
  const u32 = (): number => (need(4), (at += 4), buf.readUInt32LE(at - 4));
  const u16 = (): number => (need(2), (at += 2), buf.readUInt16LE(at - 2));
  const str = (): Buffer => {
    const len = u32();
    u32();
    need(padded(len));
    const bytes = buf.subarray(at, at + len);
    at += padded(len);
    return bytes;
  };
  if (u32() !== PLAN_MAGIC) throw new PlanError('bad_config', 'invalid spawn plan: bad magic');
  const version = u32();
  if (version !== PLAN_VERSION) throw new PlanError('bad_config', `invalid spawn plan: unsupported version ${version}`);
  const count = u32();
  u32();
  const header: PlanHeader = {};
  const uidMap = str().toString();
  const gidMap = str().toString();
  const setgroups = str().toString();
  const uidMapper = str().toString();
  const gidMapper = str().toString();
  if (uidMap) header.uidMap = uidMap;
  if (gidMap) header.gidMap = gidMap;
  if (setgroups === 'allow' || setgroups === 'deny') header.setgroups = setgroups;
  if (uidMapper) header.uidMapper = uidMapper;
  if (gidMapper) header.gidMapper = gidMapper;
  const ops: PlanOp[] = [];
  for (let i = 0; i < count; i++) {
    const code = u32();
    const entry = BY_CODE.get(code);
    if (entry === undefined) throw new PlanError('bad_config', `invalid spawn plan: op ${i} has unknown code ${code}`);
    const [name, spec] = entry;
    if (u16() !== spec.nums.length || u16() !== spec.strs.length) {
      throw new PlanError('bad_config', `invalid spawn plan: op ${i} (${name}) has wrong argument counts`);
    }
    const w: Wire = {};
    for (const [field, kind] of spec.nums) {
      need(8);
      w[field] = kind === 'u64' ? buf.readBigUInt64LE(at) : Number(buf.readBigInt64LE(at));
      at += 8;
    }
    for (const [field, kind] of spec.strs) w[field] = strValue(kind, str());
    ops.push(fromWire(name, w));
  }
  if (at !== buf.length) throw new PlanError('bad_config', `invalid spawn plan: ${buf.length - at} trailing bytes`);
  return { header, ops };
}

/**
 * Records a plan op by op; {@link PlanBuilder.encode} produces the buffer for `SyscallPort.spawn`.
 * Methods validate nothing about order: the caller (src/linux/plan-init.ts) owns the sequence. Ops before
 * `fork()` run in stage-1 (cgroup joins, setns, unshare, id maps); the rest run in the init.
 */
export class PlanBuilder {
  readonly header: PlanHeader;
  readonly ops: PlanOp[] = [];

  constructor(header: PlanHeader = {}) {
    this.header = { ...header };
  }

  private push(op: PlanOp): this {
    this.ops.push(op);
    return this;
  }

  /**
   * Writes content to an existing file (no O_CREAT), e.g. `<cgroup>/cgroup.procs` ← "0" to join a cgroup. A path
   * under /proc/ or /sys/ must be on the real procfs / sysfs (checked with fstatfs first; EXDEV otherwise).
   */
  writeFile(path: string, content: string): this {
    return this.push({ op: 'writeFile', path, content });
  }
  /** Joins the namespace at path (nstype: a CLONE.* flag or 0). */
  setns(path: string, nstype: number): this {
    return this.push({ op: 'setns', path, nstype });
  }
  /** unshare(2) with CLONE.* flags. */
  unshare(flags: number): this {
    return this.push({ op: 'unshare', flags });
  }
  /** Waits while the parent writes the header's setgroups/uid_map/gid_map for this process. */
  usernsSync(): this {
    return this.push({ op: 'usernsSync' });
  }
  /** Clones the init (pid 1 of a new pid namespace, if one was unshared); stage-1 exits here. */
  fork(): this {
    return this.push({ op: 'fork' });
  }
  /** mount(2); empty source/fstype/data are passed as NULL. */
  mount(source: string, target: string, fstype: string, flags: number, data: string): this {
    return this.push({ op: 'mount', source, target, fstype, flags, data });
  }
  /**
   * mount_setattr(2) with AT_RECURSIVE on the mount at `path` and every mount below it: the recursive mount
   * attributes (MOUNT_ATTR_*) of options like "rro" or "rnosuid", which a remount cannot give the submounts.
   */
  mountSetattr(path: string, attrSet: number, attrClr: number): this {
    return this.push({ op: 'mountSetattr', path, attrSet, attrClr });
  }
  /**
   * Stage-1, before any namespace is joined or made: makes a detached copy of a bind mount's source (a host path,
   * with the mounts below it when `recursive`: rbind) as host root, with open_tree(OPEN_TREE_CLONE). The n-th
   * sourceOpen of the plan is source n of `mountSource`. At most 256.
   */
  sourceOpen(path: string, recursive: boolean): this {
    return this.push({ op: 'sourceOpen', recursive: recursive ? 1 : 0, path });
  }
  /**
   * Attaches source `index` (see sourceOpen) onto `target` (move_mount): the bind mount of a source that a user
   * namespace could not search (a 0700 directory of host root's), as runc does with its mount sources. Like
   * `mount`, the target is resolved inside the rootfs after rootfsOpen.
   */
  mountSource(index: number, target: string): this {
    return this.push({ op: 'mountSource', index, target });
  }
  /** mkdir -p (existing directories are fine). */
  mkdirP(path: string, mode = 0o755): this {
    return this.push({ op: 'mkdirP', path, mode });
  }
  /** Creates an empty file if absent (and its parent directories): a bind-mount target for a file. */
  mkfile(path: string, mode = 0o644): this {
    return this.push({ op: 'mkfile', path, mode });
  }
  /** mknod(2); `mode` includes the file type (S_IFCHR...), `dev` is makedev(major, minor). EEXIST is fine. */
  mknod(path: string, mode: number, dev: number): this {
    return this.push({ op: 'mknod', path, mode, dev });
  }
  /** symlink(target, linkpath); EEXIST is fine. */
  symlink(target: string, linkpath: string): this {
    return this.push({ op: 'symlink', target, linkpath });
  }
  chown(path: string, uid: number, gid: number): this {
    return this.push({ op: 'chown', path, uid, gid });
  }
  chmod(path: string, mode: number): this {
    return this.push({ op: 'chmod', path, mode });
  }
  /**
   * Opens the rootfs (a host path). From here until `pivotRoot`, the paths of mkdirP, mkfile, mknod, symlink's
   * linkpath, chown, chmod and mount's target are container paths, resolved inside the rootfs with
   * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), created with *at() calls under the resolved parent and
   * mounted onto /proc/self/fd/N: no symlink in the image can make them reach the host. Mount sources stay host
   * paths.
   */
  rootfsOpen(path: string): this {
    return this.push({ op: 'rootfsOpen', path });
  }
  /** chroot(2): the root of a container without a mount namespace of its own (nothing can be pivoted there). */
  chroot(path: string): this {
    return this.push({ op: 'chroot', path });
  }
  /** Makes newRoot (a mount point) the root and detaches the old root; ends the paths-in-the-rootfs mode of `rootfsOpen`. */
  pivotRoot(newRoot: string): this {
    return this.push({ op: 'pivotRoot', newRoot });
  }
  /** OCI maskedPaths: read-only tmpfs over a directory, /dev/null over anything else; absent paths are skipped. */
  maskPath(path: string): this {
    return this.push({ op: 'maskPath', path });
  }
  /** OCI readonlyPaths: bind onto itself, then remount read-only keeping nosuid/nodev/noexec; absent paths are skipped. */
  readonlyPath(path: string): this {
    return this.push({ op: 'readonlyPath', path });
  }
  /** root.readonly: remount an existing bind mount read-only (keeping its other flags). */
  remountReadonly(path: string): this {
    return this.push({ op: 'remountReadonly', path });
  }
  sethostname(name: string): this {
    return this.push({ op: 'sethostname', name });
  }
  setdomainname(name: string): this {
    return this.push({ op: 'setdomainname', name });
  }
  /** prlimit on the process; `RLIM_INFINITY` (2^64-1) means unlimited. */
  setrlimit(resource: number, soft: bigint, hard: bigint): this {
    return this.push({ op: 'setrlimit', resource, soft, hard });
  }
  chdir(path: string): this {
    return this.push({ op: 'chdir', path });
  }
  umask(mask: number): this {
    return this.push({ op: 'umask', mask });
  }
  setsid(): this {
    return this.push({ op: 'setsid' });
  }
  /** setgroups (unless groups is null) + setresgid + setresuid, keeping the permitted capabilities for `caps()`. */
  setIds(uid: number, gid: number, groups: number[] | null): this {
    return this.push({ op: 'setIds', uid, gid, groups: groups === null ? null : [...groups] });
  }
  /** Drops the bounding set to `bounding`, capset()s the rest and raises ambient caps. Must come after setIds. */
  caps(sets: CapSets): this {
    return this.push({ op: 'caps', ...sets });
  }
  noNewPrivs(): this {
    return this.push({ op: 'noNewPrivs' });
  }
  /** prctl(option, arg): PR_SET_PDEATHSIG (1) so a process dies with its parent, PR_SET_DUMPABLE (4). */
  prctl(option: number, arg: number): this {
    return this.push({ op: 'prctl', option, arg });
  }
  /**
   * Waits until the caller opens the gate of a gated spawn ({@link SyscallPort.spawnGated}); a cancelled gate ends
   * the spawn. Lets the caller prepare something stage 1 needs next (the cgroup) while stage 1 gets here.
   */
  gate(): this {
    return this.push({ op: 'gate' });
  }
  /**
   * Installs a compiled seccomp filter (`struct sock_filter[]`, 8 bytes per instruction). With `listener` (a profile
   * with SCMP_ACT_NOTIFY) the filter is installed with SECCOMP_FILTER_FLAG_NEW_LISTENER and its listener fd is sent
   * to the parent, which `spawn()` returns as `seccompFd`; so it must come before `ready`.
   */
  seccomp(bpf: Buffer, listener = false): this {
    return this.push({ op: 'seccomp', bpf: Buffer.from(bpf), listener: listener ? 1 : 0 });
  }
  /** Opens the exec fifo O_RDWR (never blocks); `waitFifo()` later blocks on it until `start` writes a byte. */
  openFifo(path: string): this {
    return this.push({ op: 'openFifo', path });
  }
  /** Connects to the console socket (a host path: do it before pivotRoot). */
  consoleConnect(socketPath: string): this {
    return this.push({ op: 'consoleConnect', socketPath });
  }
  /** Creates a pty, makes the slave stdio + controlling tty, sends the master over the console socket. */
  consoleSetup(): this {
    return this.push({ op: 'consoleSetup' });
  }
  /** Marks every fd >= firstFd close-on-exec. */
  closeFds(firstFd: number): this {
    return this.push({ op: 'closeFds', firstFd });
  }
  /** dup2(oldFd, newFd); dup2(n, n) clears FD_CLOEXEC so n is inherited. */
  dup2(oldFd: number, newFd: number): this {
    return this.push({ op: 'dup2', oldFd, newFd });
  }
  /** Tells the parent the init is set up: `spawn()` returns. Later errors go to the init's stderr. */
  ready(): this {
    return this.push({ op: 'ready' });
  }
  /** Blocks until `start` writes a byte to the fifo opened by `openFifo()`. */
  waitFifo(): this {
    return this.push({ op: 'waitFifo' });
  }
  /** Fails (ENOENT/EACCES naming path) unless `path` resolves, along env's PATH, to an executable. */
  checkExec(path: string, env: string[]): this {
    return this.push({ op: 'checkExec', path, env: [...env] });
  }
  /** execve, looking `path` up along env's PATH when it has no '/'. */
  exec(path: string, argv: string[], env: string[]): this {
    return this.push({ op: 'exec', path, argv: [...argv], env: [...env] });
  }

  /**
   * Stage-1, before any setns: binds the gofer's listening unix socket at socketPath (a longer path than
   * sun_path allows is bound through /proc/self/fd) and opens the gofer executable O_PATH, so that neither
   * host path is looked up after the namespaces changed.
   */
  goferPrepare(socketPath: string, binaryPath: string): this {
    return this.push({ op: 'goferPrepare', socketPath, binaryPath });
  }
  /**
   * Stage-1, in the container's mount namespace: prepares the gofer (src/gofer/gofer.c), the container's file
   * broker, rooted at `root` (a host path: the rootfs, or "/" of a joined mount namespace). At the `fork` that must
   * follow, stage 1 itself becomes the gofer once the init is forked; the init waits until it serves before `ready`.
   * Mounts made afterwards in this namespace (the init's) are under its root too. Needs `goferPrepare`.
   */
  spawnGofer(root: string): this {
    return this.push({ op: 'spawnGofer', root });
  }
  /** Opens a cgroup.procs file for writing now (as host root); `cgroupJoin` writes "0" to it later. At most 64. */
  cgroupOpen(path: string): this {
    return this.push({ op: 'cgroupOpen', path });
  }
  /**
   * Writes "0" to every file `cgroupOpen` opened: the process joins those cgroups. The kernel checks the
   * permission against the opener's credentials, so this works after unshare(CLONE_NEWUSER) too.
   */
  cgroupJoin(): this {
    return this.push({ op: 'cgroupJoin' });
  }

  /** The flat buffer for the addon. @throws PlanError on unencodable values. */
  encode(): Buffer {
    return encodePlan(this.header, this.ops);
  }
}

/** Mount flags (linux/mount.h). */
export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  SILENT: 0x8000,
  POSIXACL: 0x10000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  KERNMOUNT: 0x400000,
  I_VERSION: 0x800000,
  STRICTATIME: 0x1000000,
  LAZYTIME: 0x2000000,
} as const;

/** Namespace flags for unshare/setns (linux/sched.h). */
export const CLONE = {
  NEWTIME: 0x80,
  NEWNS: 0x20000,
  NEWCGROUP: 0x2000000,
  NEWUTS: 0x4000000,
  NEWIPC: 0x8000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;

/** rlimit resource numbers by OCI name (asm-generic/resource.h; same on x86_64 and arm64). */
export const RLIMIT: Record<string, number> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

/** "Unlimited" for setrlimit. */
export const RLIM_INFINITY = 0xffffffffffffffffn;

/** Capability numbers by name (linux/capability.h). */
export const CAPABILITIES: Record<string, number> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
};

/** A capability mask (bit n = capability n) from names like 'CAP_CHOWN'. @throws PlanError on an unknown name. */
export function capMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const name of names) {
    const n = CAPABILITIES[name];
    if (n === undefined) throw new PlanError('bad_config', `unknown capability ${name}`);
    mask |= 1n << BigInt(n);
  }
  return mask;
}

/** makedev(major, minor) as glibc computes it (the `dev` argument of mknod). */
export function makedev(major: number, minor: number): number {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  const dev = ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
  return Number(dev);
}

/** File type bits for mknod's mode. */
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

/** waitPid flag: return { pid: 0 } instead of blocking when the child is still running. */
export const WNOHANG = 1;
