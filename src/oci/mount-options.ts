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
}

/**
 * Splits mount options into flags, propagation changes and filesystem data. Later options win
 * ("ro,rw" is read-write), as with mount(8).
 *
 * @example
 * parseMountOptions(['nosuid', 'strictatime', 'mode=755'])
 * // { flags: MS_NOSUID | MS_STRICTATIME, clearFlags: 0, propagation: [], data: ['mode=755'], extensions: [] }
 */
export function parseMountOptions(options: readonly string[]): ParsedMountOptions {
  const out: ParsedMountOptions = { flags: 0, clearFlags: 0, propagation: [], data: [], extensions: [] };
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
    } else if (option !== '') {
      out.data.push(option);
    }
  }
  return out;
}
