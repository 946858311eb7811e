/**
 * The mount list: what the gofer does in the container's mount namespace before the init runs, computed by
 * src/linux/plan-init.ts and executed by src/gofer/gofer.c. Paths are container paths (`/etc/x`): the gofer
 * resolves each inside the root with openat2(RESOLVE_IN_ROOT), so symlinks never lead it out.
 *
 * Format (identical in src/gofer/wire.h), little-endian:
 * ```
 * header  u32 magic = 0x4D475452, u32 version = 1, u32 count, u32 reserved = 0, str root
 * entry   u32 kind, u32 mode, u64 flags, str a, str b, str c, str d
 * str     u32 len, len bytes (no NUL, no padding)
 * ```
 *
 * @example
 * const list = new MountList('/bundles/web/rootfs');
 * list.mkdirP('/data', 0o755);
 * list.mount('/srv/data', '/data', '', MS.BIND | MS.REC, '');
 * list.report('/data');
 * plan.spawnGofer(list.encode());
 */
import { ENTRY, MOUNT_LIST_MAGIC, MOUNT_LIST_VERSION } from './protocol.js';
import { GoferError } from './errors.js';

/**
 * Where mount steps go: the gofer's list (container paths) or the init's plan (host paths). PlanBuilder has
 * the same methods, so one planning function serves both.
 */
export interface MountSink {
  mkdirP(path: string, mode: number): unknown;
  mkfile(path: string, mode: number): unknown;
  mount(source: string, target: string, fstype: string, flags: number, data: string): unknown;
  symlink(target: string, linkpath: string): unknown;
}

/** One step of the list, as recorded and as {@link decodeMountList} returns it. */
export type MountListEntry =
  | { kind: 'mkdir'; path: string; mode: number }
  | { kind: 'mkfile'; path: string; mode: number }
  | { kind: 'mount'; source: string; target: string; fstype: string; flags: number; data: string }
  | { kind: 'symlink'; target: string; linkpath: string }
  | { kind: 'report'; path: string };

/** Records the gofer's steps; {@link MountList.encode} makes the buffer for `PlanBuilder.spawnGofer`. */
export class MountList implements MountSink {
  readonly entries: MountListEntry[] = [];

  /** @param root host path the gofer resolves every path in ('/' = its root as it is, e.g. a joined namespace). */
  constructor(readonly root: string) {}

  /** mkdir -p inside the root; existing directories are fine. */
  mkdirP(path: string, mode = 0o755): this {
    this.entries.push({ kind: 'mkdir', path, mode });
    return this;
  }
  /** Creates the parents and an empty file if absent (a file bind mount's target). */
  mkfile(path: string, mode = 0o644): this {
    this.entries.push({ kind: 'mkfile', path, mode });
    return this;
  }
  /** mount(2) onto the path resolved inside the root; empty source/fstype/data are passed as NULL. */
  mount(source: string, target: string, fstype: string, flags: number, data: string): this {
    this.entries.push({ kind: 'mount', source, target, fstype, flags, data });
    return this;
  }
  /** symlink(target, linkpath) with linkpath's parent resolved (and created) inside the root; EEXIST is fine. */
  symlink(target: string, linkpath: string): this {
    this.entries.push({ kind: 'symlink', target, linkpath });
    return this;
  }
  /** Asks the gofer to send back the cleaned host path of `path` (one entry of the spawn result's `mounts`). */
  report(path: string): this {
    this.entries.push({ kind: 'report', path });
    return this;
  }

  /** @throws GoferError (bad_config) when a string holds a NUL byte or a number is out of range. */
  encode(): Buffer {
    const parts: Buffer[] = [];
    const head = Buffer.alloc(16);
    head.writeUInt32LE(MOUNT_LIST_MAGIC, 0);
    head.writeUInt32LE(MOUNT_LIST_VERSION, 4);
    head.writeUInt32LE(this.entries.length, 8);
    parts.push(head, str(this.root, 'root'));
    this.entries.forEach((e, i) => {
      const [a, b, c, d] = strings(e);
      const mode = e.kind === 'mkdir' || e.kind === 'mkfile' ? e.mode : 0;
      const flags = e.kind === 'mount' ? e.flags : 0;
      if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw bad(`entry ${i} (${e.kind}): bad mode ${mode}`);
      if (!Number.isSafeInteger(flags) || flags < 0) throw bad(`entry ${i} (${e.kind}): bad mount flags ${flags}`);
      const fixed = Buffer.alloc(16);
      fixed.writeUInt32LE(ENTRY[e.kind], 0);
      fixed.writeUInt32LE(mode, 4);
      fixed.writeBigUInt64LE(BigInt(flags), 8);
      parts.push(fixed, str(a, `entry ${i}`), str(b, `entry ${i}`), str(c, `entry ${i}`), str(d, `entry ${i}`));
    });
    return Buffer.concat(parts);
  }
}

function strings(e: MountListEntry): [string, string, string, string] {
  switch (e.kind) {
    case 'mkdir':
    case 'mkfile':
    case 'report':
      return ['', e.path, '', ''];
    case 'mount':
      return [e.source, e.target, e.fstype, e.data];
    case 'symlink':
      return [e.target, e.linkpath, '', ''];
  }
}

function bad(message: string): GoferError {
  return new GoferError('bad_config', `invalid gofer mount list: ${message}`);
}

function str(s: string, where: string): Buffer {
  if (s.includes('\0')) throw bad(`${where}: "${s.replace(/\0/g, '\\0')}" contains a NUL byte: fix the mount in config.json`);
  const bytes = Buffer.from(s, 'utf8');
  const out = Buffer.alloc(4 + bytes.length);
  out.writeUInt32LE(bytes.length, 0);
  bytes.copy(out, 4);
  return out;
}

const KIND_BY_CODE = new Map<number, MountListEntry['kind']>(
  (Object.entries(ENTRY) as [MountListEntry['kind'], number][]).map(([k, v]) => [v, k]),
);

/** The inverse of {@link MountList.encode} (tests and the fake port). @throws GoferError on a malformed buffer. */
export function decodeMountList(buf: Buffer): { root: string; entries: MountListEntry[] } {
  let at = 0;
  const need = (n: number): void => {
    if (buf.length - at < n) throw bad(`truncated at byte ${at}`);
  };
  const u32 = (): number => (need(4), (at += 4), buf.readUInt32LE(at - 4));
  const text = (): string => {
    const len = u32();
    need(len);
    at += len;
    return buf.toString('utf8', at - len, at);
  };
  if (u32() !== MOUNT_LIST_MAGIC) throw bad('bad magic');
  const version = u32();
  if (version !== MOUNT_LIST_VERSION) throw bad(`unsupported version ${version}`);
  const count = u32();
  u32();
  const root = text();
  const entries: MountListEntry[] = [];
  for (let i = 0; i < count; i++) {
    const kind = KIND_BY_CODE.get(u32());
    if (kind === undefined) throw bad(`entry ${i} has an unknown kind`);
    const mode = u32();
    need(8);
    const flags = Number(buf.readBigUInt64LE(at));
    at += 8;
    const [a, b, c, d] = [text(), text(), text(), text()];
    if (kind === 'mkdir' || kind === 'mkfile') entries.push({ kind, path: b, mode });
    else if (kind === 'report') entries.push({ kind, path: b });
    else if (kind === 'mount') entries.push({ kind, source: a, target: b, fstype: c, flags, data: d });
    else entries.push({ kind, target: a, linkpath: b });
  }
  if (at !== buf.length) throw bad(`${buf.length - at} trailing bytes`);
  return { root, entries };
}
