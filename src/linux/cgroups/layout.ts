import * as fs from 'node:fs';
import * as path from 'node:path';
import { CgroupError } from './cgroup-error.js';
import type { CgroupMode } from './types.js';

/** The v1 controllers runts knows; a v1 hierarchy is managed when it carries one of these or is named. */
export const V1_CONTROLLERS = [
  'cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'hugetlb', 'net_cls', 'net_prio',
  'perf_event', 'rdma', 'misc',
] as const;

/** Super-block options of a v1 cgroup mount that are not controllers. */
const V1_NON_CONTROLLER_OPTIONS = new Set(['rw', 'ro', 'xattr', 'noprefix', 'clone_children', 'cpuset_v2_mode', 'favordynmods']);

/** One mounted cgroup hierarchy. */
export interface CgroupHierarchy {
  version: 1 | 2;
  /** v1: the co-mounted controllers, e.g. ['cpu', 'cpuacct'], or ['name=systemd']; v2: []. */
  controllers: string[];
  /** Where it is mounted (with the injected root prefix applied). */
  mountpoint: string;
  /** Which cgroup of the hierarchy is mounted there (mountinfo field 4; "/" unless bind-mounted or namespaced). */
  mountRoot: string;
}

/** The host's cgroup mounts and the runtime's own cgroups. */
export interface CgroupLayout {
  mode: CgroupMode;
  /** Every managed v1 hierarchy (one entry per mount, co-mounted controllers share it), then the cgroup2 one. */
  hierarchies: CgroupHierarchy[];
  /** v1 controller (or "name=…") → mountpoint. Empty on pure v2. */
  controllers: Record<string, string>;
  /** The cgroup2 mountpoint (v2, or hybrid's /sys/fs/cgroup/unified); undefined on pure v1. */
  unified?: string;
  /** The runtime's own cgroup per controller (from /proc/self/cgroup); key "" is the cgroup2 entry. */
  own: Record<string, string>;
  /** The huge page sizes the kernel supports, named as the hugetlb controller names its files ("2MB"). */
  hugePageSizes: string[];
}

/** One line of /proc/<pid>/mountinfo, the fields cgroup detection needs. */
export interface MountinfoEntry {
  root: string;
  mountpoint: string;
  fstype: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses mountinfo text (proc(5)): `id parent maj:min root mountpoint opts [optional…] - fstype source superopts`. */
export function parseMountinfo(text: string): MountinfoEntry[] {
  const out: MountinfoEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const fields = line.split(' ');
    // The optional fields vary in number; the " - " separator marks where the fixed tail starts.
    const sep = fields.indexOf('-', 6);
    if (sep < 0 || fields.length < sep + 4) continue;
    out.push({
      root: unescapeMountinfo(fields[3]),
      mountpoint: unescapeMountinfo(fields[4]),
      fstype: fields[sep + 1],
      superOptions: fields[sep + 3].split(','),
    });
  }
  return out;
}

/**
 * Parses /proc/<pid>/cgroup (`hierarchy-id:controllers:path`) into controller → path. Each controller of a
 * co-mounted line gets the path (also under the joined key, e.g. "cpu,cpuacct"); the cgroup2 line ("0::/…")
 * goes under "".
 */
export function parseProcCgroup(text: string): Record<string, string> {
  const own: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const cgPath = line.slice(second + 1).trim();
    own[controllers] = cgPath;
    if (controllers) for (const c of controllers.split(',')) own[c] = cgPath;
  }
  return own;
}

/** Where detectLayout reads from; every field is injectable for tests. */
export interface DetectOptions {
  /** Default /proc/self/mountinfo. */
  mountinfoPath?: string;
  /** Default /proc/self/cgroup. */
  procCgroupPath?: string;
  /** Prefix joined in front of every mountpoint and of /sys/kernel/mm/hugepages (a fake tree in a temp dir).
   * Default "" (the real root). */
  root?: string;
}

/**
 * The huge page sizes of this kernel, from the hugepages-<n>kB dirs of /sys/kernel/mm/hugepages, named as the
 * hugetlb controller names its files (the kernel's mem_fmt: the largest unit the size reaches, so 2048kB → "2MB").
 * [] when the kernel has no huge pages.
 */
export function readHugePageSizes(dir = '/sys/kernel/mm/hugepages'): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names) {
    const m = /^hugepages-(\d+)kB$/.exec(name);
    if (!m) continue;
    const kb = Number(m[1]);
    if (kb >= 1024 * 1024) out.push(`${Math.floor(kb / (1024 * 1024))}GB`);
    else if (kb >= 1024) out.push(`${Math.floor(kb / 1024)}MB`);
    else out.push(`${kb}KB`);
  }
  return out.sort();
}

/** Refuses a hugepageLimits entry whose page size this kernel does not have (there is no file to write). */
export function checkHugePageSizes(limits: { pageSize: string }[] | undefined, supported: string[]): void {
  for (const h of limits ?? []) {
    if (!supported.includes(h.pageSize)) {
      const have = supported.length ? `this kernel supports ${supported.join(', ')}` : 'this kernel has no huge pages';
      throw new CgroupError('bad_config', `linux.resources.hugepageLimits pageSize "${h.pageSize}" is not a huge page size of this host (${have}): fix or remove it`);
    }
  }
}

/**
 * Detects whether the host runs cgroup v1, v2 or hybrid (v1 controllers plus a cgroup2 mount), where each
 * hierarchy is mounted, and which cgroups this process is in.
 *
 * @example
 * const layout = detectLayout();            // real host
 * layout.mode;                              // 'hybrid'
 * layout.controllers.memory;                // '/sys/fs/cgroup/memory'
 */
export function detectLayout(opts: DetectOptions = {}): CgroupLayout {
  const mountinfoPath = opts.mountinfoPath ?? '/proc/self/mountinfo';
  const procCgroupPath = opts.procCgroupPath ?? '/proc/self/cgroup';
  const root = opts.root ?? '';
  let mountinfo: string;
  try {
    mountinfo = fs.readFileSync(mountinfoPath, 'utf8');
  } catch (e) {
    throw new CgroupError('not_found', `cannot read ${mountinfoPath}: is /proc mounted?`, { cause: e });
  }
  let procCgroup = '';
  try {
    procCgroup = fs.readFileSync(procCgroupPath, 'utf8');
  } catch {
    // Without it, relative cgroup paths resolve under each hierarchy's root: acceptable, not fatal.
  }

  const hierarchies: CgroupHierarchy[] = [];
  const controllers: Record<string, string> = {};
  const seenMountpoints = new Set<string>();
  let v2: CgroupHierarchy | undefined;
  let hasV1Controller = false;
  const known = new Set<string>(V1_CONTROLLERS);

  for (const m of parseMountinfo(mountinfo)) {
    const mountpoint = root ? path.join(root, m.mountpoint) : m.mountpoint;
    if (m.fstype === 'cgroup2') {
      // The first cgroup2 mount wins; later ones are usually bind mounts of the same tree.
      v2 ??= { version: 2, controllers: [], mountpoint, mountRoot: m.root };
      continue;
    }
    if (m.fstype !== 'cgroup') continue;
    const ctrls = m.superOptions.filter(
      (o) => o.startsWith('name=') || (!o.includes('=') && !V1_NON_CONTROLLER_OPTIONS.has(o)),
    );
    const managed = ctrls.filter((c) => c.startsWith('name=') || known.has(c));
    if (managed.length === 0) continue;
    // A hierarchy mounted twice (bind mounts) is one hierarchy: keep its first mount.
    if (ctrls.some((c) => controllers[c] !== undefined) || seenMountpoints.has(mountpoint)) continue;
    seenMountpoints.add(mountpoint);
    hierarchies.push({ version: 1, controllers: ctrls, mountpoint, mountRoot: m.root });
    for (const c of ctrls) controllers[c] = mountpoint;
    if (ctrls.some((c) => known.has(c))) hasV1Controller = true;
  }

  let mode: CgroupMode;
  if (hasV1Controller) {
    mode = v2 ? 'hybrid' : 'v1';
  } else if (v2) {
    mode = 'v2';
    // Named-only v1 hierarchies on a v2 host are not ours to manage.
    hierarchies.length = 0;
    for (const k of Object.keys(controllers)) delete controllers[k];
  } else {
    throw new CgroupError('not_found', `no cgroup filesystem is mounted (read ${mountinfoPath}): mount cgroup2 on /sys/fs/cgroup`);
  }
  if (v2) hierarchies.push(v2);
  return {
    mode,
    hierarchies,
    controllers,
    unified: v2?.mountpoint,
    own: parseProcCgroup(procCgroup),
    hugePageSizes: readHugePageSizes(path.join(root || '/', 'sys/kernel/mm/hugepages')),
  };
}

let host: CgroupLayout | undefined;

/**
 * This host's layout, detected once per process and shared (the early cgroup-attach warm-up of `create`/`run`
 * and the runtime's cgroup port would otherwise each read mountinfo): a runtime's mounts do not change under it,
 * and its own cgroups only when it moves itself (see refreshOwnCgroups).
 */
export function hostLayout(): CgroupLayout {
  return (host ??= detectLayout());
}

/**
 * Re-reads this process's own cgroups into the shared layout, after the process moved itself (a warm host leaves
 * its starter's cgroup): the attach warm-up writes our pid to the cgroup `own` names, and a stale one would move us
 * back.
 */
export function refreshOwnCgroups(procCgroup = '/proc/self/cgroup'): void {
  if (!host) return;
  const own = parseProcCgroup(fs.readFileSync(procCgroup, 'utf8'));
  for (const key of Object.keys(host.own)) delete host.own[key];
  Object.assign(host.own, own);
}
