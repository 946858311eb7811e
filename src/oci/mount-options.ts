/**
 * Mount options of config.json (`mounts[].options`, `linux.rootfsPropagation`) turned into mount(2) flags.
 * Options the table does not know are filesystem data ("mode=755", "size=65536k") and go to mount's `data`.
 */

// mount(2) flags (include/uapi/linux/mount.h).
export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_SYNCHRONOUS = 16;
export const MS_REMOUNT = 32;
export const MS_MANDLOCK = 64;
export const MS_DIRSYNC = 128;
export const MS_NOSYMFOLLOW = 256;
export const MS_NOATIME = 1024;
export const MS_NODIRATIME = 2048;
export const MS_BIND = 4096;
export const MS_REC = 16384;
export const MS_SILENT = 32768;
export const MS_UNBINDABLE = 1 << 17;
export const MS_PRIVATE = 1 << 18;
export const MS_SLAVE = 1 << 19;
export const MS_SHARED = 1 << 20;
export const MS_RELATIME = 1 << 21;
export const MS_I_VERSION = 1 << 23;
export const MS_STRICTATIME = 1 << 24;
export const MS_LAZYTIME = 1 << 25;

/** What one option string means. */
export interface MountOption {
  /** The MS_* flag it sets (or clears). 0 for "defaults". */
  flag: number;
  /** True when the option removes the flag ("rw" clears MS_RDONLY). */
  clear?: boolean;
  /** True for propagation changes (private, shared...), which need their own mount(2) call. */
  propagation?: boolean;
  /** True when it applies to the whole subtree (rbind, rprivate...): adds MS_REC. */
  recursive?: boolean;
}

/**
 * Every option runts turns into a flag. A frozen plain object: look options up with
 * `Object.hasOwn` (parseMountOptions does), so "constructor" or "__proto__" is plain data, not a match.
 */
export const MOUNT_OPTIONS: Readonly<Record<string, Readonly<MountOption>>> = Object.freeze({
  defaults: { flag: 0 },
  ro: { flag: MS_RDONLY },
  rw: { flag: MS_RDONLY, clear: true },
  nosuid: { flag: MS_NOSUID },
  suid: { flag: MS_NOSUID, clear: true },
  nodev: { flag: MS_NODEV },
  dev: { flag: MS_NODEV, clear: true },
  noexec: { flag: MS_NOEXEC },
  exec: { flag: MS_NOEXEC, clear: true },
  sync: { flag: MS_SYNCHRONOUS },
  async: { flag: MS_SYNCHRONOUS, clear: true },
  dirsync: { flag: MS_DIRSYNC },
  remount: { flag: MS_REMOUNT },
  mand: { flag: MS_MANDLOCK },
  nomand: { flag: MS_MANDLOCK, clear: true },
  atime: { flag: MS_NOATIME, clear: true },
  noatime: { flag: MS_NOATIME },
  diratime: { flag: MS_NODIRATIME, clear: true },
  nodiratime: { flag: MS_NODIRATIME },
  relatime: { flag: MS_RELATIME },
  norelatime: { flag: MS_RELATIME, clear: true },
  strictatime: { flag: MS_STRICTATIME },
  nostrictatime: { flag: MS_STRICTATIME, clear: true },
  lazytime: { flag: MS_LAZYTIME },
  nolazytime: { flag: MS_LAZYTIME, clear: true },
  iversion: { flag: MS_I_VERSION },
  noiversion: { flag: MS_I_VERSION, clear: true },
  silent: { flag: MS_SILENT },
  loud: { flag: MS_SILENT, clear: true },
  nosymfollow: { flag: MS_NOSYMFOLLOW },
  symfollow: { flag: MS_NOSYMFOLLOW, clear: true },
  bind: { flag: MS_BIND },
  rbind: { flag: MS_BIND, recursive: true },
  private: { flag: MS_PRIVATE, propagation: true },
  rprivate: { flag: MS_PRIVATE, propagation: true, recursive: true },
  shared: { flag: MS_SHARED, propagation: true },
  rshared: { flag: MS_SHARED, propagation: true, recursive: true },
  slave: { flag: MS_SLAVE, propagation: true },
  rslave: { flag: MS_SLAVE, propagation: true, recursive: true },
  unbindable: { flag: MS_UNBINDABLE, propagation: true },
  runbindable: { flag: MS_UNBINDABLE, propagation: true, recursive: true },
});

/**
 * Options runc understands that are neither MS_* flags nor filesystem data: recursive mount attributes
 * (mount_setattr: rro, rnosuid...), idmapped mounts and tmpcopyup. Passing them to the kernel as data
 * would make mount(2) fail, so parseMountOptions sets them aside in `extensions`.
 */
export const MOUNT_EXTENSIONS: ReadonlySet<string> = new Set([
  'tmpcopyup',
  'idmap',
  'ridmap',
  'rro',
  'rrw',
  'rnosuid',
  'rsuid',
  'rnodev',
  'rdev',
  'rnoexec',
  'rexec',
  'rnodiratime',
  'rdiratime',
  'rrelatime',
  'rnorelatime',
  'rnoatime',
  'ratime',
  'rstrictatime',
  'rnostrictatime',
  'rnosymfollow',
  'rsymfollow',
]);

/** MOUNT_ATTR_* of mount_setattr(2). */
export const MOUNT_ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  ATIME_MASK: 0x70,
  RELATIME: 0x0,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  NOSYMFOLLOW: 0x200000,
} as const;

/**
 * The recursive mount attributes runc applies with mount_setattr(AT_RECURSIVE): [set, clear]. The atime modes are
 * one field: the kernel wants all of it cleared to set one.
 */
const RECURSIVE_ATTRS: Record<string, [number, number]> = {
  rro: [MOUNT_ATTR.RDONLY, 0],
  rrw: [0, MOUNT_ATTR.RDONLY],
  rnosuid: [MOUNT_ATTR.NOSUID, 0],
  rsuid: [0, MOUNT_ATTR.NOSUID],
  rnodev: [MOUNT_ATTR.NODEV, 0],
  rdev: [0, MOUNT_ATTR.NODEV],
  rnoexec: [MOUNT_ATTR.NOEXEC, 0],
  rexec: [0, MOUNT_ATTR.NOEXEC],
  rnodiratime: [MOUNT_ATTR.NODIRATIME, 0],
  rdiratime: [0, MOUNT_ATTR.NODIRATIME],
  rrelatime: [MOUNT_ATTR.RELATIME, MOUNT_ATTR.ATIME_MASK],
  rnorelatime: [MOUNT_ATTR.STRICTATIME, MOUNT_ATTR.ATIME_MASK],
  rnoatime: [MOUNT_ATTR.NOATIME, MOUNT_ATTR.ATIME_MASK],
  ratime: [MOUNT_ATTR.RELATIME, MOUNT_ATTR.ATIME_MASK],
  rstrictatime: [MOUNT_ATTR.STRICTATIME, MOUNT_ATTR.ATIME_MASK],
  rnostrictatime: [MOUNT_ATTR.RELATIME, MOUNT_ATTR.ATIME_MASK],
  rnosymfollow: [MOUNT_ATTR.NOSYMFOLLOW, 0],
  rsymfollow: [0, MOUNT_ATTR.NOSYMFOLLOW],
};

export interface ParsedMountOptions {
  /** MS_* flags to set (MS_BIND | MS_REC for rbind). */
  flags: number;
  /** MS_* flags the options explicitly clear ("rw", "suid", "exec"...), useful for remounts. */
  clearFlags: number;
  /** One mount(2) flags value per propagation option, in order (MS_REC included when recursive). */
  propagation: number[];
  /** Filesystem-specific options, in order, to join with "," as mount's data. */
  data: string[];
  /** Runtime-handled options that are not mount(2) flags (see MOUNT_EXTENSIONS), in order. */
  extensions: string[];
  /** MOUNT_ATTR_* to set and clear recursively (the r* options: "rro", "rnosuid"...); later options win. */
  attrSet: number;
  attrClr: number;
}

/**
 * Splits mount options into flags, propagation changes and filesystem data. Later options win
 * ("ro,rw" is read-write), as with mount(8).
 *
 * @example
 * parseMountOptions(['nosuid', 'strictatime', 'mode=755'])
 * // { flags: MS_NOSUID | MS_STRICTATIME, clearFlags: 0, propagation: [], data: ['mode=755'], extensions: [],
 * //   attrSet: 0, attrClr: 0 }
 */
export function parseMountOptions(options: readonly string[]): ParsedMountOptions {
  const out: ParsedMountOptions = { flags: 0, clearFlags: 0, propagation: [], data: [], extensions: [], attrSet: 0, attrClr: 0 };
  for (const option of options) {
    if (Object.hasOwn(MOUNT_OPTIONS, option)) {
      const o = MOUNT_OPTIONS[option];
      const rec = o.recursive ? MS_REC : 0;
      if (o.propagation) {
        out.propagation.push(o.flag | rec);
      } else if (o.clear) {
        out.flags &= ~o.flag;
        out.clearFlags |= o.flag;
      } else {
        out.flags |= o.flag | rec;
        out.clearFlags &= ~o.flag;
      }
    } else if (MOUNT_EXTENSIONS.has(option)) {
      out.extensions.push(option);
      if (Object.hasOwn(RECURSIVE_ATTRS, option)) {
        // A later option wins over an earlier one on the same bits ("rro,rrw" is read-write).
        const [set, clr] = RECURSIVE_ATTRS[option];
        const bits = set | clr;
        out.attrSet = (out.attrSet & ~bits) | set;
        out.attrClr = (out.attrClr & ~bits) | clr;
      }
    } else if (option !== '') {
      out.data.push(option);
    }
  }
  return out;
}
