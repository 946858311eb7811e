/**
 * The gofer's wire constants, mirrored from src/gofer/wire.h (read that file for the formats). Kept in one
 * place so the TypeScript encoder (mount-list.ts) and client (client.ts) cannot drift apart from the C.
 */
import { constants } from 'node:os';

export const MOUNT_LIST_MAGIC = 0x4d475452;
export const MOUNT_LIST_VERSION = 1;

/** Mount list entry kinds (RTG_MKDIR ...). */
export const ENTRY = { mkdir: 1, mkfile: 2, mount: 3, symlink: 4, report: 5 } as const;

export const REQUEST_MAGIC = 0x51475452;

/** Broker operations (RTG_READ ...). */
export const OP = { read: 1, write: 2, list: 3, stat: 4, mkdir: 5, pid: 6 } as const;

/** LIST entry types (RTG_T_*). */
export const ENTRY_TYPE = ['other', 'file', 'directory', 'symlink'] as const;

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
