import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readFileSync, readlinkSync, statfsSync, statSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { CAPABILITIES, CLONE, MS, PLAN_LIMITS, PlanBuilder, RLIMIT, type PlanHeader } from '../native/plan.js';
import { parseMountOptions } from '../oci/mount-options.js';
import type { LinuxNamespace, Mount, Process, Spec } from '../oci/types.js';
import { PlanError } from '../errors.js';
import { secureJoin } from './secure-join.js';

/** A plan that cannot be made from this config (code bad_config). */
export { PlanError };

/** One cgroup hierarchy the container sees under a `cgroup` mount: its name there and the host directory shown. */
export interface CgroupView {
  /** e.g. "memory", "cpu,cpuacct", "unified"; "" for a pure v2 host (the tree itself is the mount). */
  name: string;
  hostDir: string;
}

/** The container's gofer (src/gofer): started by stage-1 in the container's mount namespace. */
export interface GoferPlanInput {
  /** Host path of the runts-gofer executable (opened before any namespace changes). */
  binary: string;
  /** Host path of the gofer's unix socket, `<root>/<id>/gofer.sock`. */
  socketPath: string;
}

export interface InitPlanInput {
  spec: Spec;
  /** Absolute host path of the rootfs. */
  rootfs: string;
  bundle: string;
  /** cgroup.procs files stage-1 joins (writes "0" to) before the init exists, so everything it starts is inside. */
  cgroupProcsFiles: string[];
  /**
   * The caller makes the cgroup while stage 1 starts (a gated spawn): stage 1 waits at the plan's gate before it
   * opens the cgroup.procs files.
   */
  cgroupGate?: boolean;
  cgroupViews: CgroupView[];
  /** The exec fifo: the init blocks reading it until `start` writes a byte. */
  fifoPath: string;
  consoleSocket?: string;
  /** Extra fds (from 3 up) the process keeps, as runc's --preserve-fds. */
  preserveFds?: number;
  gofer: GoferPlanInput;
  /** A foreground `run`: the init dies (SIGKILL) if the runts process that waits for it dies. */
  attached?: boolean;
  /** linux.seccomp compiled by src/linux/seccomp.ts (in the parent: the child only installs it). */
  seccomp?: Buffer;
  /** The profile has SCMP_ACT_NOTIFY rules: install with a listener, which spawn() returns (`seccompFd`). */
  seccompListener?: boolean;
  /**
   * runts runs without the host's root (src/linux/rootless.ts): how the parent writes the id maps
   * (rootlessIdMapping); devices are bound, bind sources opened by path.
   */
  rootless?: Pick<PlanHeader, 'setgroups' | 'uidMapper' | 'gidMapper'>;
}

const NAMESPACE_FLAGS: Record<string, number> = {
  pid: CLONE.NEWPID,
  network: CLONE.NEWNET,
  mount: CLONE.NEWNS,
  ipc: CLONE.NEWIPC,
  uts: CLONE.NEWUTS,
  user: CLONE.NEWUSER,
  cgroup: CLONE.NEWCGROUP,
  time: CLONE.NEWTIME,
};

/** prctl options and the signal used with them. */
export const PR_SET_PDEATHSIG = 1;
export const PR_SET_DUMPABLE = 4;
const SIGKILL = 9;

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

/** The devices every container gets (OCI runtime spec "Default Devices"). */
const DEFAULT_DEVICES = [
  { path: '/dev/null', major: 1, minor: 3 },
  { path: '/dev/zero', major: 1, minor: 5 },
  { path: '/dev/full', major: 1, minor: 7 },
  { path: '/dev/random', major: 1, minor: 8 },
  { path: '/dev/urandom', major: 1, minor: 9 },
  { path: '/dev/tty', major: 5, minor: 0 },
];

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const RLIM_INFINITY = 0xffffffffffffffffn;

/** JSON numbers above 2^53 arrive rounded: RLIM_INFINITY (2^64-1) comes through as 2^64. */
function rlimitValue(n: number): bigint {
  return n >= 2 ** 64 - 1 ? RLIM_INFINITY : BigInt(Math.max(0, Math.floor(n)));
}

/** glibc's makedev: the dev_t encoding mknod expects. */
export function makedev(major: number, minor: number): number {
  const hi = (BigInt(major) & 0xfffff000n) << 32n | (BigInt(minor) & 0xffffff00n) << 12n;
  return Number(hi | (BigInt(major) & 0xfffn) << 8n | (BigInt(minor) & 0xffn));
}

export function capabilityMask(names: string[] | undefined): bigint {
  let mask = 0n;
  for (const name of names ?? []) {
    const bit = CAPABILITIES[name];
    if (bit === undefined) throw new PlanError('bad_config', `unknown capability "${name}": use names like CAP_CHOWN`);
    mask |= 1n << BigInt(bit);
  }
  return mask;
}

/**
 * What the init and an exec'd process share, in this order: the terminal as stdio, no inherited fds, the working
 * directory, then identity and confinement — seccomp, ids, capabilities, no_new_privs, umask. Returns the
 * environment to exec with.
 *
 * seccomp goes as late as can still report to `create` (a profile too strict for checkExec/ready/execve fails
 * there with the refused op, not as a dead init after start) — but without no_new_privs, installing a filter
 * needs CAP_SYS_ADMIN, so then it goes before the ids change and the capabilities drop (runc's rule).
 */
export function planProcessSetup(
  plan: PlanBuilder,
  process: Process,
  rootfs: string,
  o: { terminal: boolean; preserveFds?: number; seccomp?: Buffer; seccompListener?: boolean; defaultUmask?: number; setgroupsDenied?: boolean },
): string[] {
  const user = process.user ?? { uid: 0, gid: 0 };
  if (o.terminal) {
    plan.consoleSetup();
    // The terminal (now fd 0) belongs to the process's user, as runc makes it: programs that check their tty's owner
    // (ssh, sudo, `mesg`) work. Its group stays devpts' (-1: unchanged).
    if (user.uid !== 0) plan.chown('/proc/self/fd/0', user.uid, -1);
  }
  plan.closeFds(3 + (o.preserveFds ?? 0));
  plan.chdir(process.cwd ?? '/');
  if (o.seccomp && !process.noNewPrivileges) plan.seccomp(o.seccomp, o.seccompListener);
  // Supplementary groups are replaced (cleared when none are given), as runc does — unless the user namespace was
  // made without root with only the caller's gid mapped: the kernel then refuses setgroups, and the process keeps
  // the (unmapped) groups it has, as with runc.
  if (o.setgroupsDenied && user.additionalGids?.length) {
    throw new PlanError('bad_config', 'config.json: process.user.additionalGids cannot be set in a user namespace that maps only your own gid: map subordinate gids in linux.gidMappings (newgidmap) or drop additionalGids');
  }
  plan.setIds(user.uid, user.gid, o.setgroupsDenied ? null : (user.additionalGids ?? []));
  // Always: without the op, a root process would keep every capability of runts itself.
  plan.caps(capabilitySets(process.capabilities));
  if (process.noNewPrivileges) plan.noNewPrivs();
  const umask = user.umask ?? o.defaultUmask;
  if (umask !== undefined) plan.umask(umask);
  if (o.seccomp && process.noNewPrivileges) plan.seccomp(o.seccomp, o.seccompListener);
  return processEnv(process, rootfs);
}

/**
 * The five capability masks of a process. Absent means none, as with runc: no `capabilities` (or no set in it)
 * leaves that set empty — the bounding set too, so even a root process cannot regain one through execve.
 * The kernel only lets a capability be ambient when it is also permitted and inheritable; runc asks anyway and
 * ignores the refusal (its default config lists ambient caps with no inheritable ones), so only the ones that can
 * be raised are asked for.
 */
export function capabilitySets(caps: Process['capabilities'] = {}) {
  const permitted = capabilityMask(caps.permitted);
  const inheritable = capabilityMask(caps.inheritable);
  return {
    bounding: capabilityMask(caps.bounding),
    effective: capabilityMask(caps.effective),
    permitted,
    inheritable,
    ambient: capabilityMask(caps.ambient) & permitted & inheritable,
  };
}

function idMap(maps: { containerID: number; hostID: number; size: number }[] | undefined): string | undefined {
  if (!maps || maps.length === 0) return undefined;
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/** The host uid that a container uid maps to (for chowns done before the user namespace exists). */
export function hostId(maps: { containerID: number; hostID: number; size: number }[] | undefined, id: number): number {
  for (const m of maps ?? []) if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + (id - m.containerID);
  return id;
}

/** Environment with PATH (for the exec lookup) and HOME (as runc sets it: from the rootfs's /etc/passwd, else "/"). */
export function processEnv(process: Process, rootfs: string): string[] {
  const env = [...(process.env ?? [])];
  if (!env.some((e) => e.startsWith('PATH='))) env.push(DEFAULT_PATH);
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${homeOf(rootfs, process.user?.uid ?? 0)}`);
  return env;
}

function homeOf(rootfs: string, uid: number): string {
  try {
    for (const line of readRegularFile(secureJoin(rootfs, '/etc/passwd')).split('\n')) {
      const f = line.split(':');
      if (f.length >= 6 && Number(f[2]) === uid && f[5]) return f[5];
    }
  } catch {
    // No passwd file: fall through.
  }
  return '/';
}

/** A regular file's text; anything else in the image (a fifo that would block, a device node) is skipped. */
function readRegularFile(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    return fstatSync(fd).isFile() ? readFileSync(fd, 'utf8') : '';
  } finally {
    closeSync(fd);
  }
}

function isBind(m: Mount): boolean {
  return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

/** Namespaces that unshare/setns only apply to the caller's children: entered last, so the gofer stays out of them. */
const CHILDREN_ONLY = new Set(['pid', 'time']);

/** What planInit leaves out of this config, for create to log as warnings. */
export function planWarnings(spec: Spec): string[] {
  const linux = spec.linux ?? {};
  if ((linux.namespaces ?? []).some((n) => n.type === 'mount')) return [];
  const ignored = [
    spec.mounts?.length ? 'mounts' : '',
    linux.maskedPaths?.length ? 'linux.maskedPaths' : '',
    linux.readonlyPaths?.length ? 'linux.readonlyPaths' : '',
    linux.rootfsPropagation ? 'linux.rootfsPropagation' : '',
    spec.root?.readonly ? 'root.readonly' : '',
  ].filter((f) => f !== '');
  if (ignored.length === 0) return [];
  return [`config.json has no mount namespace: ${ignored.join(', ')} not applied (the process is only chrooted into the rootfs); add {"type":"mount"} to linux.namespaces to have them`];
}

/**
 * Computes the init's whole plan from the config: the order of the ops here is the order the kernel needs
 * (each ordering constraint is commented where it is made). The native side only executes it.
 *
 * Stage-1 (the first cloned process) prepares the namespaces and starts the container's gofer, the file broker
 * (see src/gofer/gofer.c); then it joins the cgroup and forks the init, which makes every mount in config order
 * (proc needs the container's pid namespace, and the kernel lists mounts in the order they were made), makes the
 * devices, pivots and runs the process.
 */
export function planInit(input: InitPlanInput): PlanBuilder {
  const { spec, rootfs } = input;
  const process = spec.process;
  if (!process) throw new PlanError('bad_config', 'config.json has no "process": add process.args');
  const linux = spec.linux ?? {};
  const namespaces: LinuxNamespace[] = linux.namespaces ?? [];
  const has = (t: string) => namespaces.some((n) => n.type === t);
  const newNs = (t: string) => namespaces.some((n) => n.type === t && !n.path);
  const userns = has('user');
  checkMounts(spec, rootfs, input.bundle);
  checkSysctlNetns(linux.sysctl, namespaces);

  const plan = new PlanBuilder({
    uidMap: newNs('user') ? idMap(linux.uidMappings) : undefined,
    gidMap: newNs('user') ? idMap(linux.gidMappings) : undefined,
    ...(newNs('user') ? input.rootless : {}),
  });

  // --- stage 1: still in the runtime's namespaces and as host root.
  // The cgroup.procs files are opened in the host's cgroup namespace, as host root and with the host's view of
  // /sys/fs/cgroup; the write that joins is the init's (stage 1 becomes the gofer, which stays out of the container's
  // cgroup, where `ps` and `kill --all` look) and the kernel checks it against the opener's credentials, so it still
  // works after unshare(CLONE_NEWUSER). When the caller makes the cgroup meanwhile (cgroupGate), they are opened as
  // late as that allows — by the init, right after the fork, so the cgroup is made while the namespaces are set up —
  // unless joined namespaces or a new user namespace come first: then by stage 1 at once, after the gate.
  const joins = namespaces.filter((n) => n.path).sort((a, b) => Number(b.type === 'user') - Number(a.type === 'user'));
  const openCgroupLate = input.cgroupGate === true && joins.length === 0 && !newNs('user');
  const openCgroup = () => {
    if (input.cgroupGate) plan.gate();
    for (const file of input.cgroupProcsFiles) plan.cgroupOpen(file);
  };
  if (!openCgroupLate) openCgroup();
  // Open host-side files now, while paths and permissions are the host's (a user-namespaced root could not).
  plan.openFifo(input.fifoPath);
  const terminal = process.terminal === true && input.consoleSocket !== undefined;
  if (terminal) plan.consoleConnect(input.consoleSocket!);
  plan.goferPrepare(input.gofer.socketPath, input.gofer.binary);
  // In a user namespace the init may not search a bind source's host path (a 0700 directory of host root's): open
  // each source now, as host root, and let the init mount it through that descriptor (runc's mount fds).
  // Without root there is no such directory to cross, and cloning a mount (open_tree) needs CAP_SYS_ADMIN we only
  // have inside the new namespaces: the init binds by path, as the user.
  const sources = userns && has('mount') && !input.rootless ? openBindSources(plan, spec, input.bundle) : new Map<number, number>();
  // Join namespaces given by path; the user namespace first, since it owns the others.
  for (const ns of joins) if (!CHILDREN_ONLY.has(ns.type)) plan.setns(ns.path!, NAMESPACE_FLAGS[ns.type]);
  // The cgroup namespace waits until the cgroup is joined: its root is the cgroup we are in when it is made.
  let flags = 0;
  let childrenFlags = 0;
  let cgroupFlags = 0;
  for (const ns of namespaces) {
    if (ns.path) continue;
    if (CHILDREN_ONLY.has(ns.type)) childrenFlags |= NAMESPACE_FLAGS[ns.type];
    else if (ns.type === 'cgroup') cgroupFlags |= NAMESPACE_FLAGS[ns.type];
    else flags |= NAMESPACE_FLAGS[ns.type];
  }
  if (flags) plan.unshare(flags);
  if (newNs('user')) {
    // The parent writes uid_map/gid_map while we wait; then become root of the new namespace, or files we
    // create would belong to the overflow uid.
    plan.usernsSync();
    plan.setIds(0, 0, null);
  }
  // A mount namespace joined by path gets the same rootfs as a new one (as runc does): its root is not the
  // container's root.path, and the process must not see that namespace's whole tree.
  if (has('mount')) {
    // Nothing mounted from here on may propagate back to the host: make / recursively slave before the first mount.
    plan.mount('', '/', '', MS.REC | MS.SLAVE, '');
    // pivot_root needs the new root to be a mount point; the gofer's root and the init's mounts are inside it.
    plan.mount(rootfs, rootfs, '', MS.BIND | MS.REC, '');
  }
  // Stage 1 becomes the gofer at the fork below, once the init exists: it is in the namespaces made so far, never
  // in the pid namespace (entered for children only) nor the cgroup (joined by the init).
  plan.spawnGofer(rootfs);
  for (const ns of joins) if (CHILDREN_ONLY.has(ns.type)) plan.setns(ns.path!, NAMESPACE_FLAGS[ns.type]);
  if (childrenFlags) plan.unshare(childrenFlags);
  // unshare(CLONE_NEWPID) only affects children: the init is the next process, pid 1 of the new namespace.
  plan.fork();

  // --- the init.
  // First of all it joins the cgroup (waiting at the gate until the caller made it), so every process the container
  // ever makes starts inside it; then the cgroup namespace, whose root is the cgroup it is in when made.
  if (openCgroupLate) openCgroup();
  plan.cgroupJoin();
  if (cgroupFlags) plan.unshare(cgroupFlags);

  // Until it execs it is runts-init, holding this plan: not dumpable, so no process that can see it (a sandbox
  // sibling sharing its pid namespace) may open its /proc/<pid>/exe — a host binary — or ptrace it. Without root it
  // stays dumpable: the createContainer and startContainer hooks are run by the user, from outside, who may only
  // open its /proc/<pid>/ns/* then; no one but that user (and its containers) can, and they own everything here.
  if (!input.rootless) plan.prctl(PR_SET_DUMPABLE, 0);
  if (input.attached) plan.prctl(PR_SET_PDEATHSIG, SIGKILL);
  plan.umask(0); // exact modes for the nodes and dirs made below
  if (process.oomScoreAdj !== undefined) plan.writeFile('/proc/self/oom_score_adj', String(process.oomScoreAdj));
  for (const r of process.rlimits ?? []) {
    const resource = RLIMIT[r.type];
    if (resource === undefined) throw new PlanError('bad_config', `unknown rlimit "${r.type}": use names like RLIMIT_NOFILE`);
    plan.setrlimit(resource, rlimitValue(r.soft), rlimitValue(r.hard));
  }
  if (spec.hostname !== undefined) plan.sethostname(spec.hostname);
  if (spec.domainname !== undefined) plan.setdomainname(spec.domainname);
  if (has('mount')) {
    planRootfs(plan, input, sources, userns, newNs('network'));
  } else {
    // No mount namespace: nothing can be mounted without changing the host's, so the process is only confined to
    // the rootfs with chroot (runc does not even do that), and mounts, masked and read-only paths are not made
    // (see planWarnings).
    plan.chdir(rootfs);
    plan.chroot('.');
    plan.chdir('/');
    planSysctls(plan, linux.sysctl);
  }

  const env = planProcessSetup(plan, process, rootfs, {
    terminal,
    preserveFds: input.preserveFds,
    seccomp: input.seccomp,
    seccompListener: input.seccompListener,
    defaultUmask: 0o022,
    setgroupsDenied: newNs('user') && input.rootless?.setgroups === 'deny',
  });
  const args = process.args ?? [];
  checkListSize('process.args', args.length);
  checkListSize('process.env (with the PATH and HOME runts adds when missing)', env.length);
  // Fail `create` (not `start`) when the program is missing, like runc.
  plan.checkExec(args[0], env);
  plan.ready();
  plan.waitFifo();
  plan.exec(args[0], args, env);
  return plan;
}

/**
 * A read-only /dev of its own (a tmpfs, not a bind): mounted writable, then made read-only once the mounts under it
 * and the device nodes are in place (they are made in it), as runc does.
 */
function isReadonlyDev(m: Mount): boolean {
  return containerPath(m.destination) === '/dev' && !isBind(m) && (m.options ?? []).includes('ro');
}

/** sourceOpen for each bind mount of the config; returns mount index → source index (see PlanBuilder.mountSource). */
function openBindSources(plan: PlanBuilder, spec: Spec, bundle: string): Map<number, number> {
  const sources = new Map<number, number>();
  (spec.mounts ?? []).forEach((m, i) => {
    if (!isBind(m)) return;
    if (sources.size === PLAN_LIMITS.maxSourceFds) {
      throw new PlanError('bad_config', `config.json has more than ${PLAN_LIMITS.maxSourceFds} bind mounts in a user namespace: runts supports that many`);
    }
    plan.sourceOpen(resolve(bundle, m.source ?? ''), (m.options ?? []).includes('rbind'));
    sources.set(i, sources.size);
  });
  return sources;
}

function planRootfs(plan: PlanBuilder, input: InitPlanInput, sources: Map<number, number>, userns: boolean, newNet: boolean): void {
  const { spec, rootfs } = input;
  const linux = spec.linux ?? {};
  // From rootfsOpen to pivotRoot every path below is a container path that the init resolves inside the rootfs (a
  // symlink in the image, /proc/self/root included, cannot lead out of it).
  plan.rootfsOpen(rootfs);
  (spec.mounts ?? []).forEach((m, i) => {
    planMount(plan, input, isReadonlyDev(m) ? { ...m, options: m.options!.filter((o) => o !== 'ro') } : m, newNet, sources.get(i));
  });

  const devIsBound = (spec.mounts ?? []).some((m) => containerPath(m.destination) === '/dev' && isBind(m));
  // mknod is refused in a user namespace, and to root of one (rootless Podman's) just as well.
  if (!devIsBound) planDevices(plan, input, userns || input.rootless !== undefined);
  const readonlyDev = (spec.mounts ?? []).filter(isReadonlyDev).at(-1);
  if (readonlyDev) {
    const opts = parseMountOptions(readonlyDev.options ?? []);
    plan.mount('', '/dev', '', opts.flags | MS.REMOUNT, opts.data.join(','));
  }

  plan.pivotRoot(rootfs);
  if (linux.rootfsPropagation) {
    const prop = parseMountOptions([linux.rootfsPropagation]).propagation;
    for (const p of prop) plan.mount('', '/', '', p, '');
  }
  // Before readonlyPaths: the default config makes /proc/sys read-only (Docker sets two net.* sysctls on every
  // container).
  planSysctls(plan, linux.sysctl);
  for (const p of linux.readonlyPaths ?? []) plan.readonlyPath(p);
  for (const p of linux.maskedPaths ?? []) plan.maskPath(p);
  if (spec.root?.readonly) plan.remountReadonly('/');
}

/**
 * The steps of one OCI mount; its destination is a container path, resolved inside the rootfs by the init.
 * `source`: the index of the bind source stage 1 copied (sourceOpen), when it did.
 */
function planMount(plan: PlanBuilder, input: InitPlanInput, m: Mount, newNet: boolean, source?: number): void {
  const dest = containerPath(m.destination);
  const opts = parseMountOptions(m.options ?? []);
  const data = opts.data.join(',');
  let remountFlags = opts.flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
  // Without root, a sysfs that cannot be mounted fresh is the host's /sys read-only, as runc binds it (the flags the
  // host's /sys mount has are locked in a user namespace: they are kept, never cleared).
  if (m.type === 'sysfs' && !isBind(m) && !newNet && input.rootless) remountFlags |= MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC;

  if (m.type === 'cgroup' || m.type === 'cgroup2') {
    planCgroupMount(plan, input.cgroupViews, dest, remountFlags);
  } else if (isBind(m) || (m.type === 'sysfs' && !newNet)) {
    // sysfs can only be mounted fresh in a network namespace the mounter owns; without one, bind the host's
    // /sys instead (read-only when asked), as runc does.
    const hostSource = m.type === 'sysfs' && !isBind(m) ? '/sys' : resolve(input.bundle, m.source ?? '');
    const recursive = m.type === 'sysfs' || (m.options ?? []).includes('rbind');
    let isDir = true;
    try {
      isDir = statSync(hostSource).isDirectory();
    } catch {
      throw new PlanError('not_found', `mount source "${m.source}" for "${m.destination}" does not exist: fix mounts in config.json`);
    }
    if (isDir) plan.mkdirP(dest, 0o755);
    else plan.mkfile(dest, 0o644);
    const bind = MS.BIND | (recursive ? MS.REC : 0);
    if (source !== undefined) plan.mountSource(source, dest);
    else plan.mount(hostSource, dest, '', bind, '');
    if (remountFlags) plan.mount('', dest, '', MS.BIND | MS.REMOUNT | remountFlags, '');
  } else {
    plan.mkdirP(dest, 0o755);
    plan.mount(m.source ?? m.type ?? 'none', dest, m.type ?? '', opts.flags, data);
  }
  for (const p of opts.propagation) plan.mount('', dest, '', p, '');
  // After the mount and its submounts exist: "rro" and friends reach every mount below dest (a remount does not).
  if (opts.attrSet || opts.attrClr) plan.mountSetattr(dest, opts.attrSet, opts.attrClr);
}

/** A cgroup mount shows the container's own cgroup of each hierarchy (bind mounts: works with or without cgroupns). */
function planCgroupMount(plan: PlanBuilder, views: CgroupView[], dest: string, flags: number): void {
  plan.mkdirP(dest, 0o755);
  if (views.length === 1 && views[0].name === '') {
    plan.mount(views[0].hostDir, dest, '', MS.BIND | MS.REC, '');
    plan.mount('', dest, '', MS.BIND | MS.REMOUNT | flags | MS.NOSUID | MS.NODEV | MS.NOEXEC, '');
    return;
  }
  plan.mount('tmpfs', dest, 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, 'mode=755');
  for (const v of views) {
    const sub = posix.join(dest, v.name);
    plan.mkdirP(sub, 0o755);
    plan.mount(v.hostDir, sub, '', MS.BIND | MS.REC, '');
    plan.mount('', sub, '', MS.BIND | MS.REMOUNT | flags | MS.NOSUID | MS.NODEV | MS.NOEXEC, '');
    // Co-mounted controllers ("cpu,cpuacct") are also reachable by each name, as on the host.
    if (v.name.includes(',')) for (const alias of v.name.split(',')) plan.symlink(v.name, posix.join(dest, alias));
  }
  if (flags & MS.RDONLY) plan.mount('', dest, '', MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, 'mode=755');
}

function planDevices(plan: PlanBuilder, input: InitPlanInput, userns: boolean): void {
  const linux = input.spec.linux ?? {};
  const devDir = '/dev';
  const devices = [
    ...DEFAULT_DEVICES.map((d) => ({ ...d, type: 'c', fileMode: 0o666, uid: undefined as number | undefined, gid: undefined as number | undefined })),
    ...(linux.devices ?? []).map((d) => ({ path: d.path, major: d.major ?? 0, minor: d.minor ?? 0, type: d.type, fileMode: d.fileMode ?? 0o666, uid: d.uid, gid: d.gid })),
  ];
  for (const d of devices) {
    // mknod, mkfile and symlink make the missing parent directories (inside the rootfs) themselves.
    const dest = containerPath(d.path);
    if (dest === '/') throw new PlanError('bad_config', `config.json: linux.devices path ${JSON.stringify(d.path)} names the root: use a path like /dev/sda`);
    if (userns) {
      // mknod is refused in a user namespace: bind the host's node instead.
      if (!existsSync(d.path)) continue;
      plan.mkfile(dest, 0o644);
      plan.mount(d.path, dest, '', MS.BIND, '');
      continue;
    }
    const kind = d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR;
    plan.mknod(dest, kind | (d.fileMode & 0o7777), makedev(d.major, d.minor));
    if (d.uid !== undefined || d.gid !== undefined) plan.chown(dest, d.uid ?? 0, d.gid ?? 0);
  }
  plan.symlink('/proc/self/fd', posix.join(devDir, 'fd'));
  plan.symlink('/proc/self/fd/0', posix.join(devDir, 'stdin'));
  plan.symlink('/proc/self/fd/1', posix.join(devDir, 'stdout'));
  plan.symlink('/proc/self/fd/2', posix.join(devDir, 'stderr'));
  if (existsSync('/proc/kcore')) plan.symlink('/proc/kcore', posix.join(devDir, 'core'));
  // The container's ptys come from its own devpts instance.
  plan.symlink('pts/ptmx', posix.join(devDir, 'ptmx'));
}

/** A config path as the container sees it: absolute, normalized ("/a/../b" is "/b", ".." stops at "/"). */
function containerPath(p: string): string {
  return posix.normalize(posix.join('/', p));
}

/**
 * linux.sysctl, written through /proc/sys of the container (the init checks it is the real procfs). runc's key
 * syntax: "." separates, unless the first separator is "/" — then "/" separates and "." is part of a name
 * ("net/ipv4/conf/eth0.100/forwarding"). validate.ts allows only names that stay inside /proc/sys.
 */
function planSysctls(plan: PlanBuilder, sysctl: Record<string, string> | undefined): void {
  for (const key of Object.keys(sysctl ?? {}).sort()) plan.writeFile(`/proc/sys/${sysctlPath(key)}`, sysctl![key]);
}

/**
 * The path of a sysctl under /proc/sys, by runc's key syntax.
 * @example sysctlPath('net.ipv4.ip_forward') // 'net/ipv4/ip_forward'
 */
export function sysctlPath(key: string): string {
  const first = key.search(/[./]/);
  if (first >= 0 && key[first] === '/') return key;
  return key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

/** net.* sysctls are refused in the runtime's own network namespace (runc: "not allowed in host network namespace"). */
function checkSysctlNetns(sysctl: Record<string, string> | undefined, namespaces: LinuxNamespace[]): void {
  const netKeys = Object.keys(sysctl ?? {}).filter((k) => k.startsWith('net.') || k.startsWith('net/'));
  const path = namespaces.find((n) => n.type === 'network')?.path;
  if (netKeys.length === 0 || !path) return;
  let same = false;
  try {
    const a = statSync(path);
    const b = statSync('/proc/self/ns/net');
    same = a.dev === b.dev && a.ino === b.ino;
  } catch (e) {
    throw new PlanError('bad_config', `config.json: network namespace path ${JSON.stringify(path)} cannot be used: ${(e as Error).message}`);
  }
  if (same) {
    throw new PlanError('bad_config', `config.json: linux.sysctl ${JSON.stringify(netKeys[0])} is not allowed in the host's network namespace (${path}): use a network namespace of the container's own`);
  }
}

function checkListSize(field: string, n: number): void {
  const max = PLAN_LIMITS.maxListEntries;
  if (n > max) throw new PlanError('bad_config', `config.json: ${field} has ${n} entries, more than the ${max} runts supports: shorten it`);
}

const PROC_SUPER_MAGIC = 0x9fa0;

/** What may be mounted inside /proc (runc's checkProcMount: files that lxcfs emulates). */
const PROC_MOUNTS_ALLOWED = new Set([
  '/proc/cpuinfo',
  '/proc/diskstats',
  '/proc/meminfo',
  '/proc/stat',
  '/proc/swaps',
  '/proc/uptime',
  '/proc/loadavg',
  '/proc/slabinfo',
  '/proc/net/dev',
  '/proc/sys/kernel/ns_last_pid',
  '/proc/sys/crypto/fips_enabled',
]);

/**
 * Mount rules checked before anything starts, as runc has them: nothing is mounted inside /proc but its allow-list,
 * /proc itself takes only a procfs, and proc and sysfs are mounted on an ordinary directory of the rootfs — a
 * symlinked /proc or /sys in the image is refused rather than followed.
 */
function checkMounts(spec: Spec, rootfs: string, bundle: string): void {
  (spec.mounts ?? []).forEach((m, i) => {
    const dest = containerPath(m.destination);
    const what = `config.json: mounts[${i}] (destination ${JSON.stringify(m.destination)})`;
    if (dest === '/proc') {
      let procSource = false;
      if (isBind(m)) {
        try {
          procSource = statfsSync(resolve(bundle, m.source ?? '')).type === PROC_SUPER_MAGIC;
        } catch {
          // A missing source is reported where the mount is planned.
        }
      }
      if (!(isBind(m) ? procSource : m.type === 'proc')) {
        throw new PlanError('bad_config', `${what}: only a proc mount (type "proc") may be mounted on /proc: fix mounts in config.json`);
      }
    } else if (dest.startsWith('/proc/') && !PROC_MOUNTS_ALLOWED.has(dest)) {
      throw new PlanError('bad_config', `${what} is inside /proc: only ${[...PROC_MOUNTS_ALLOWED].join(', ')} may be mounted there; fix mounts in config.json`);
    }
    if ((m.type === 'proc' || m.type === 'sysfs') && !isBind(m)) checkOrdinaryDir(rootfs, dest, m.type, what);
  });
}

/** Each existing component of `dest` in the rootfs must be a real directory (lstat: a symlink is not followed). */
function checkOrdinaryDir(rootfs: string, dest: string, type: string, what: string): void {
  let at = '';
  for (const part of dest.split('/').filter((p) => p !== '')) {
    at = `${at}/${part}`;
    const host = posix.join(rootfs, at);
    let st;
    try {
      st = lstatSync(host);
    } catch {
      return; // missing from here on: the init makes real directories
    }
    if (st.isSymbolicLink()) {
      throw new PlanError('bad_config', `${what}: ${at} is a symlink in the rootfs (to ${JSON.stringify(readlinkSync(host))}): ${type} must be mounted on an ordinary directory, fix the image`);
    }
    if (!st.isDirectory()) {
      throw new PlanError('bad_config', `${what}: ${at} in the rootfs is not a directory: ${type} must be mounted on an ordinary directory, fix the image`);
    }
  }
}
