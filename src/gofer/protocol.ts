/**
 * The gofer's wire constants, mirrored from src/gofer/wire.h (read that file for the formats). Kept in one
 * place so the client (client.ts) cannot drift apart from the C.
 */
import { constants } from 'node:os';

export const REQUEST_MAGIC = 0x51475452;

/** Broker operations (RTG_READ ...). */
export const OP = { read: 1, write: 2, list: 3, stat: 4, mkdir: 5, pid: 6 } as const;

/** LIST entry types (RTG_T_*). */
export const ENTRY_TYPE = ['other', 'file', 'directory', 'symlink'] as const;

/** The status of a refused request (RTG_REFUSED): u32 why, u32 reserved, u64 detail follow. */
export const REFUSED = -1;
/** Why a request was refused (RTG_WHY_*). */
export const WHY = { fs: 1, kernelPath: 2, type: 3 } as const;
/** The detail of WHY.kernelPath (RTG_KERNEL_*). */
export const KERNEL_DIR: Record<number, string> = { 1: '/proc', 2: '/sys' };

/** Names of the filesystems the gofer refuses that one meets in a container (statfs f_type → name). */
export const PSEUDO_FS: Record<number, string> = {
  0x9fa0: 'procfs',
  0x62656572: 'sysfs',
  0x27e0eb: 'cgroup',
  0x63677270: 'cgroup2',
  0x64626720: 'debugfs',
  0x74726163: 'tracefs',
  0x73636673: 'securityfs',
  0xcafe4a11: 'bpf',
  0x1cd1: 'devpts',
  0x62656570: 'configfs',
  0x6165676c: 'pstore',
  0xde5e81e4: 'efivarfs',
  0x19800202: 'mqueue',
  0x958458f6: 'hugetlbfs',
  0x42494e4d: 'binfmt_misc',
  0x6e736673: 'nsfs',
  0xf97cff8c: 'selinuxfs',
  0x43415d53: 'smackfs',
  0x0187: 'autofs',
  0x65735546: 'fuse',
  0x65735543: 'fusectl',
  0x67596969: 'rpc_pipefs',
};

/** Names of the file types the gofer will not read or write (S_IFMT bits → words). */
export const FILE_TYPE: Record<number, string> = {
  0o010000: 'a fifo',
  0o020000: 'a character device',
  0o060000: 'a block device',
  0o140000: 'a socket',
  0o120000: 'a symlink',
};

/** A READ/LIST frame length meaning "an i32 errno follows" (RTG_FRAME_ERROR). */
export const FRAME_ERROR = 0xffffffff;
/** The largest frame the gofer accepts from a client (RTG_MAX_FRAME). */
export const MAX_FRAME = 1 << 20;
/** The longest path a request may carry (RTG_MAX_PATH). */
export const MAX_PATH = 4096;

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** 'ENOENT' for 2; 'E<n>' when unknown. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `E${errno}`;
}

/** The errno number of a name ('EXDEV' → 18). */
export function errnoNumber(name: keyof typeof constants.errno): number {
  return constants.errno[name];
}
