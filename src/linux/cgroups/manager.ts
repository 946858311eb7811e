import * as fs from 'node:fs';
import * as path from 'node:path';
import { CgroupError } from './cgroup-error.js';
import { isCgroupFs, readKeyValues, readPidsRecursive, readText, sleepMs, writeValue } from './fs-util.js';
import type { CgroupHierarchy, CgroupLayout } from './layout.js';
import type { CgroupMode, CgroupStats, FreezerState, LinuxResources } from './types.js';
import { applyV1, statsV1, validateV1, type V1Dirs } from './v1.js';
import { applyV2, statsV2, validateV2 } from './v2.js';
import type { SubCgroups } from './sub-cgroups.js';

/** Controllers enabled in each ancestor's cgroup.subtree_control on v2 (kernel order), where available. */
export const V2_CONTROLLERS = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids'] as const;

/** How long freeze/thaw wait for the kernel to finish, and how often they look. */
const FREEZE_TIMEOUT_MS = 1000;
const FREEZE_POLL_MS = 10;
/** rmdir of a cgroup whose last tasks are still exiting fails with EBUSY for a moment. */
const RMDIR_TRIES = 20;
const RMDIR_POLL_MS = 10;

/** What {@link CgroupManager.create} did. */
export interface CreateResult {
  /** True when this call made the leaf in at least one hierarchy: destroy it if a later step of create fails. */
  created: boolean;
  /** Every directory this call made (leaves and intermediates), top-down. */
  createdDirs: string[];
  /** Resources this host could not apply (see {@link CgroupManager.apply}). */
  warnings: string[];
  /**
   * With `skipDenied`: the leaf dirs of the hierarchies the caller may not write (EACCES, EPERM, EROFS), left out of
   * this manager from then on (procsFiles, apply, views see only the others).
   */
  skipped: string[];
}

/** One hierarchy and the container's leaf directory in it. */
interface Target {
  hierarchy: CgroupHierarchy;
  dir: string;
  /** A plain directory tree (unit tests), not cgroupfs. */
  fake: boolean;
}

function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * The leaf dir of `cgPath` in one hierarchy. Absolute paths hang from the mountpoint (as runc). Relative paths
 * hang from the runtime's own cgroup in that hierarchy; /proc/self/cgroup names it from the hierarchy's root,
 * while the mount may expose only a subtree (mountRoot), so that prefix is cut first.
 */
export function leafDir(h: CgroupHierarchy, cgPath: string, own: Record<string, string>): string {
  if (cgPath.startsWith('/')) return path.join(h.mountpoint, cgPath);
  let base = (h.version === 2 ? own[''] : own[h.controllers[0]]) ?? '/';
  if (h.mountRoot !== '/' && (base === h.mountRoot || base.startsWith(`${h.mountRoot}/`))) {
    base = base.slice(h.mountRoot.length) || '/';
  }
  return path.join(h.mountpoint, base, cgPath);
}

/** The chain of dirs from just below `top` down to `leaf`. */
function chainBelow(top: string, leaf: string): string[] {
  const rel = path.relative(top, leaf);
  if (!rel || rel.startsWith('..')) return [];
  const out: string[] = [];
  let cur = top;
  for (const part of rel.split(path.sep)) {
    cur = path.join(cur, part);
    out.push(cur);
  }
  return out;
}

// Whether each hierarchy's mountpoint is real cgroupfs, asked once per process (a statfs per hierarchy per
// container operation added up to a millisecond): mounts do not change type under a running runtime.
const cgroupFsMounts = new Map<string, boolean>();
function isCgroupFsMount(mountpoint: string): boolean {
  let real = cgroupFsMounts.get(mountpoint);
  if (real === undefined) cgroupFsMounts.set(mountpoint, (real = isCgroupFs(mountpoint)));
  return real;
}

/** mkdir errors that mean "not yours to write" (a read-only cgroupfs mount is one too). */
const DENIED = new Set(['EACCES', 'EPERM', 'EROFS']);

const isFreezer = (t: Target) => t.hierarchy.version === 1 && t.hierarchy.controllers.includes('freezer');

/**
 * One container's cgroup across every hierarchy of the host. Sync on purpose: the files are tiny and the CLI is
 * short-lived. Get one with {@link openCgroup}.
 */
export class CgroupManager {
  /** The cgroup path as given (absolute, or relative to the runtime's own cgroup). */
  readonly path: string;
  readonly mode: CgroupMode;
  private targets: Target[];
  private readonly hugePageSizes: string[];

  /** @internal use {@link openCgroup} */
  constructor(layout: CgroupLayout, cgPath: string, relativeTo: Record<string, string> = layout.own) {
    this.path = cgPath;
    this.mode = layout.mode;
    this.hugePageSizes = layout.hugePageSizes;
    this.targets = layout.hierarchies.map((hierarchy) => ({
      hierarchy,
      dir: leafDir(hierarchy, cgPath, relativeTo),
      fake: !isCgroupFsMount(hierarchy.mountpoint),
    }));
    for (const t of this.targets) {
      if (path.relative(t.hierarchy.mountpoint, t.dir) === '') {
        throw new CgroupError('bad_config', `cgroup path "${cgPath}" is the root of ${t.hierarchy.mountpoint}: give the container its own cgroup in linux.cgroupsPath`);
      }
    }
  }

  /** The container's directory in every hierarchy (v1 hierarchies first, then the cgroup2 one). */
  get dirs(): string[] {
    return this.targets.map((t) => t.dir);
  }

  /** The v1 leaf dir of a controller, or undefined when the controller is not mounted. */
  private v1Dir(controller: string): Target | undefined {
    return this.targets.find((t) => t.hierarchy.version === 1 && t.hierarchy.controllers.includes(controller));
  }

  private get v2Target(): Target | undefined {
    return this.targets.find((t) => t.hierarchy.version === 2);
  }

  private v1Dirs(): V1Dirs {
    return {
      dir: (c) => this.v1Dir(c)?.dir,
      isFake: (dir) => this.targets.find((t) => t.dir === dir)?.fake ?? false,
      hugePageSizes: this.hugePageSizes,
    };
  }

  /**
   * Makes the cgroup in every hierarchy (v1: each managed controller and named hierarchy; hybrid: also the
   * cgroup2 tree; v2: the one tree, enabling cpuset/cpu/io/memory/hugetlb/pids in each ancestor), then applies
   * `resources`. An existing cgroup is fine. If any step fails, the dirs this call made are removed again and
   * the error is thrown.
   *
   * @example
   * const cg = openCgroup(detectLayout(), resolveCgroupPath(spec.linux?.cgroupsPath, id));
   * const { created, warnings } = cg.create(spec.linux?.resources);
   */
  create(resources?: LinuxResources, opts: { skipDenied?: boolean } = {}): CreateResult {
    if (resources) this.validate(resources);
    const createdDirs: string[] = [];
    const warnings: string[] = [];
    const skipped: string[] = [];
    let created = false;
    try {
      for (const t of [...this.targets]) {
        const chain = chainBelow(t.hierarchy.mountpoint, t.dir);
        try {
          this.makeChain(chain, createdDirs);
        } catch (e) {
          // Without root, cgroups are used only where they were delegated to the caller (runc's rootless rule).
          if (!opts.skipDenied || !DENIED.has(errnoOf((e as Error).cause) ?? '')) throw e;
          skipped.push(t.dir);
          this.targets = this.targets.filter((x) => x !== t);
          continue;
        }
        if (createdDirs.at(-1) === t.dir) created = true;
        if (t.hierarchy.version === 1 && t.hierarchy.controllers.includes('cpuset')) {
          // A new v1 cpuset cgroup starts with empty cpus/mems and refuses tasks (ENOSPC) until they are set;
          // fill each level top-down from its parent (cgroup.clone_children would do it, but only for new dirs).
          for (const dir of chain) this.inheritCpuset(dir, t.fake);
        }
        if (t.hierarchy.version === 2 && this.mode === 'v2') {
          warnings.push(...this.enableControllers(t, chain));
        }
      }
      warnings.push(...this.checkExisting());
      if (resources) warnings.push(...this.apply(resources));
    } catch (e) {
      for (const dir of [...createdDirs].reverse()) this.removeQuietly(dir);
      throw e;
    }
    return { created, createdDirs, warnings, skipped };
  }

  /**
   * A cgroup that existed before create: a frozen one would freeze the init as it joins (and create would wait for
   * it forever), so it is refused as runc refuses it; processes already inside are only worth a warning (they share
   * the container's limits and `ps`/`kill --all` see them), as runc 1.1 does.
   */
  private checkExisting(): string[] {
    if (this.targets.length === 0) return [];
    let frozen = false;
    // Without root the freezer's hierarchy may have been skipped: then nothing of ours can be frozen.
    if (this.freezerTarget().target) {
      try {
        frozen = this.freezerState() !== 'THAWED';
      } catch (e) {
        if ((e as CgroupError).code !== 'not_found') throw e; // no freezer: nothing can be frozen
      }
    }
    const dir = this.targets[0]?.dir;
    if (frozen) {
      throw new CgroupError('bad_state', `cgroup ${dir} exists and is frozen: thaw it or choose another linux.cgroupsPath`);
    }
    const pids = this.pids();
    return pids.length ? [`cgroup ${dir} already has ${pids.length} process(es) (${pids.slice(0, 5).join(', ')}): they share the container's cgroup`] : [];
  }

  private validate(r: LinuxResources): void {
    if (this.mode === 'v2') validateV2(r, this.hugePageSizes);
    else validateV1(r, this.mode, this.hugePageSizes);
  }

  /**
   * Makes the dirs of `chain` (top-down, the container's last) that do not exist yet, adding each to `made` as soon
   * as it exists (a failure further down must still remove it). The leaf first: its parents nearly always exist
   * already (made for an earlier container), and every mkdir the kernel refuses with EEXIST costs a syscall and a
   * thrown error. Only when the leaf's parent is missing (ENOENT) is the chain made from the top.
   */
  private makeChain(chain: string[], made: string[]): void {
    const leaf = chain[chain.length - 1]!;
    const first = this.mkdir(leaf, true);
    if (first === 'made') made.push(leaf);
    if (first !== 'no-parent') return;
    for (const dir of chain) if (this.mkdir(dir) === 'made') made.push(dir);
  }

  /**
   * mkdir that says whether it made the dir or found it there; a missing parent is an error unless
   * `parentMayBeMissing`, when it is answered 'no-parent'.
   */
  private mkdir(dir: string, parentMayBeMissing = false): 'made' | 'existed' | 'no-parent' {
    try {
      fs.mkdirSync(dir);
      return 'made';
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'EEXIST') return 'existed';
      if (code === 'ENOENT' && parentMayBeMissing) return 'no-parent';
      throw new CgroupError('sys', `cannot create cgroup ${dir}: ${code ?? String(e)} (runts needs root to manage cgroups)`, { cause: e });
    }
  }

  private removeQuietly(dir: string): void {
    try {
      const t = this.targets.find((x) => dir.startsWith(`${x.hierarchy.mountpoint}/`));
      if (t?.fake) fs.rmSync(dir, { recursive: true, force: true });
      else fs.rmdirSync(dir);
    } catch {
      // Best effort while unwinding a failed create: the original error is the one to report.
    }
  }

  private inheritCpuset(dir: string, fake: boolean): void {
    const parent = path.dirname(dir);
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (readText(path.join(dir, file))) continue;
      const value = readText(path.join(parent, file));
      if (value) writeValue(path.join(dir, file), value, fake);
    }
  }

  /**
   * v2 only lets a cgroup use the controllers its parent enabled in cgroup.subtree_control, so each ancestor
   * of the leaf (from the root down) enables what it has. A cgroup that holds processes itself cannot enable
   * controllers for its children ("no internal processes"): that becomes a warning, and the resource files
   * the leaf then lacks fail clearly in apply().
   */
  private enableControllers(t: Target, chain: string[]): string[] {
    const warnings: string[] = [];
    const ancestors = [t.hierarchy.mountpoint, ...chain.slice(0, -1)];
    for (const dir of ancestors) {
      const available = (readText(path.join(dir, 'cgroup.controllers')) ?? '').split(/\s+/);
      const enabled = (readText(path.join(dir, 'cgroup.subtree_control')) ?? '').split(/\s+/);
      const wanted = V2_CONTROLLERS.filter((c) => available.includes(c) && !enabled.includes(c));
      if (wanted.length === 0) continue;
      const file = path.join(dir, 'cgroup.subtree_control');
      try {
        writeValue(file, wanted.map((c) => `+${c}`).join(' '), t.fake);
      } catch {
        // One refused controller fails the whole write: retry one by one to enable the others.
        for (const c of wanted) {
          try {
            writeValue(file, `+${c}`, t.fake);
          } catch (e) {
            warnings.push(`cannot enable the ${c} controller in ${dir}: ${(e as Error).message}`);
          }
        }
      }
    }
    return warnings;
  }

  /**
   * The cgroup.procs file of every hierarchy: a new process writes "0" (itself) to each before running anything,
   * so all its children start inside the container's cgroup. With `sub` (an exec's `--cgroup`, from
   * parseSubCgroups) the files of those sub-cgroups instead; as with runc they must exist already.
   * @throws CgroupError bad_config for a controller no hierarchy has, not_found for a missing sub-cgroup.
   */
  procsFiles(sub: SubCgroups = {}): string[] {
    const chosen = new Map<Target, string>();
    for (const [controller, rel] of Object.entries(sub)) {
      if (controller === '') continue;
      const t = this.mode === 'v2' ? undefined : this.v1Dir(controller);
      if (!t) {
        throw new CgroupError(
          'bad_config',
          this.mode === 'v2'
            ? `exec --cgroup "${controller}:${rel}": cgroup v2 has one tree, give the sub-cgroup without a controller`
            : `exec --cgroup "${controller}:${rel}": no cgroup v1 hierarchy has the controller "${controller}" here`,
        );
      }
      chosen.set(t, rel);
    }
    // The v1 freezer last: a process that joins a FROZEN cgroup (exec --ignore-paused) stops right there, and should
    // by then be in the container's cgroup in every other hierarchy.
    const freezerLast = [...this.targets].sort((a, b) => Number(isFreezer(a)) - Number(isFreezer(b)));
    return freezerLast.map((t) => {
      const rel = chosen.get(t) ?? sub[''];
      if (rel === undefined) return path.join(t.dir, 'cgroup.procs');
      const dir = path.join(t.dir, rel);
      // Relative without "..": parseSubCgroups refuses anything else, so `dir` is below the container's dir.
      if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
        throw new CgroupError('not_found', `exec --cgroup: the container has no sub-cgroup "${rel}" in ${t.hierarchy.mountpoint}: create it first`);
      }
      return path.join(dir, 'cgroup.procs');
    });
  }

  /**
   * Writes OCI `linux.resources` to the cgroup files. Returns warnings for settings this host cannot apply
   * (a controller not mounted, swap accounting off, realtime or swappiness on v2, device rules on v2 — those
   * need an eBPF program runts does not load yet, so they are reported, not enforced). Throws a `bad_config`
   * CgroupError for invalid values (before writing anything) and a `sys` one when the kernel refuses a write
   * (e.g. EBUSY when lowering memory below current usage).
   */
  apply(resources: LinuxResources): string[] {
    if (this.mode === 'v2') {
      const t = this.v2Target!;
      return applyV2(t.dir, t.fake, resources, this.hugePageSizes);
    }
    return applyV1(this.v1Dirs(), resources, this.mode);
  }

  /** The freezer's leaf dir; throws `not_found` when the cgroup is gone (so callers can tell "stopped"). */
  private freezer(): { kind: 1 | 2; target: Target } {
    const { kind, target } = this.freezerTarget();
    if (!target) throw new CgroupError('sys', 'the freezer cgroup controller is not mounted: mount it at /sys/fs/cgroup/freezer to pause containers');
    if (!fs.existsSync(target.dir)) {
      throw new CgroupError('not_found', `cgroup ${target.dir} does not exist: the container's cgroup was removed`);
    }
    return { kind, target };
  }

  /** The hierarchy that freezes this cgroup, if any. */
  private freezerTarget(): { kind: 1 | 2; target: Target | undefined } {
    let kind: 1 | 2 = this.mode === 'v2' ? 2 : 1;
    let target = kind === 2 ? this.v2Target : this.v1Dir('freezer');
    // Hybrid without root: only the cgroup2 tree may have been delegated (the v1 freezer was skipped at create);
    // its cgroup.freeze (Linux 5.2) freezes the container as well.
    const v2 = this.v2Target;
    if (kind === 1 && v2 && (!target || !fs.existsSync(target.dir)) && fs.existsSync(path.join(v2.dir, 'cgroup.freeze'))) {
      kind = 2;
      target = v2;
    }
    return { kind, target };
  }

  /** The freezer's state. Throws `not_found` when the cgroup does not exist. */
  freezerState(): FreezerState {
    const { kind, target } = this.freezer();
    if (kind === 1) {
      const s = readText(path.join(target.dir, 'freezer.state'));
      return s === 'FROZEN' || s === 'FREEZING' ? s : 'THAWED';
    }
    if (readText(path.join(target.dir, 'cgroup.freeze')) !== '1') return 'THAWED';
    return readKeyValues(path.join(target.dir, 'cgroup.events')).frozen === 1 ? 'FROZEN' : 'FREEZING';
  }

  /**
   * Freezes every process of the cgroup and waits (up to 1 s) until the kernel reports it frozen. On timeout the
   * cgroup is thawed again and a `sys` error is thrown: a half-frozen container is worse than a running one.
   * Throws `not_found` when the cgroup does not exist.
   */
  freeze(): void {
    const { kind, target } = this.freezer();
    const deadline = Date.now() + FREEZE_TIMEOUT_MS;
    if (kind === 1) {
      const file = path.join(target.dir, 'freezer.state');
      for (;;) {
        // Re-writing FROZEN nudges tasks that were busy (e.g. forking) when the previous write went in.
        writeValue(file, 'FROZEN', target.fake);
        if (readText(file) === 'FROZEN') return;
        if (Date.now() >= deadline) break;
        sleepMs(FREEZE_POLL_MS);
      }
      this.tryThaw(file, 'THAWED', target.fake);
    } else {
      writeValue(path.join(target.dir, 'cgroup.freeze'), '1', target.fake);
      if (this.waitFrozen(target.dir, 1, deadline)) return;
      this.tryThaw(path.join(target.dir, 'cgroup.freeze'), '0', target.fake);
    }
    throw new CgroupError('sys', `cannot freeze cgroup ${target.dir}: still not frozen after ${FREEZE_TIMEOUT_MS} ms (a task may be in uninterruptible sleep); thawed it again, retry the pause`);
  }

  /** Thaws the cgroup and waits (up to 1 s) until the kernel reports it thawed. */
  thaw(): void {
    const { kind, target } = this.freezer();
    const deadline = Date.now() + FREEZE_TIMEOUT_MS;
    if (kind === 1) {
      const file = path.join(target.dir, 'freezer.state');
      writeValue(file, 'THAWED', target.fake);
      for (;;) {
        if (readText(file) === 'THAWED') return;
        if (Date.now() >= deadline) break;
        sleepMs(FREEZE_POLL_MS);
      }
    } else {
      writeValue(path.join(target.dir, 'cgroup.freeze'), '0', target.fake);
      if (this.waitFrozen(target.dir, 0, deadline)) return;
    }
    throw new CgroupError('sys', `cannot thaw cgroup ${target.dir}: still frozen after ${FREEZE_TIMEOUT_MS} ms (is a parent cgroup frozen?)`);
  }

  private tryThaw(file: string, value: string, fake: boolean): void {
    try {
      writeValue(file, value, fake);
    } catch {
      // Reporting the freeze timeout matters more than this.
    }
  }

  /** v2: cgroup.events "frozen" flips once every task has stopped (or resumed). */
  private waitFrozen(dir: string, want: 0 | 1, deadline: number): boolean {
    for (;;) {
      if ((readKeyValues(path.join(dir, 'cgroup.events')).frozen ?? 0) === want) return true;
      if (Date.now() >= deadline) return false;
      sleepMs(FREEZE_POLL_MS);
    }
  }

  /**
   * How many processes of the cgroup the kernel's OOM killer has killed: `oom_kill` of memory.oom_control (v1) or
   * memory.events (v2); 0 without a memory controller or when the cgroup is gone.
   */
  oomKills(): number {
    const t = this.mode === 'v2' ? this.v2Target : this.v1Dir('memory');
    if (!t) return 0;
    return readKeyValues(path.join(t.dir, this.mode === 'v2' ? 'memory.events' : 'memory.oom_control')).oom_kill ?? 0;
  }

  /** Every pid in the cgroup and its sub-cgroups, sorted; [] when it does not exist. */
  pids(): number[] {
    if (this.mode === 'v2') return this.v2Target ? readPidsRecursive(this.v2Target.dir) : [];
    // The first hierarchy the cgroup exists in: without root, only some (even only the cgroup2 tree) may hold it.
    const candidates = [this.v1Dir('pids'), this.v1Dir('freezer'), this.v1Dir('memory'), ...this.targets];
    const t = candidates.find((c) => c !== undefined && fs.existsSync(c.dir)) ?? candidates.find((c) => c !== undefined);
    return t ? readPidsRecursive(t.dir) : [];
  }

  /** Resource usage in runc's `events --stats` shape. Never throws: missing files read as zero. */
  stats(): CgroupStats {
    if (this.mode === 'v2') return statsV2(this.v2Target!.dir);
    return statsV1(this.v1Dirs());
  }

  /** True when the leaf exists in at least one hierarchy (so a half-removed cgroup still counts). */
  exists(): boolean {
    return this.targets.some((t) => fs.existsSync(t.dir));
  }

  /**
   * Removes the leaf (and any sub-cgroups a container made inside it) in every hierarchy; parents stay.
   * Idempotent: a missing dir is fine. rmdir is retried briefly on EBUSY (tasks still exiting); after that a
   * `sys` error names the dir and the pids still in it. Every hierarchy is tried before the first error is thrown.
   */
  destroy(): void {
    const errors: CgroupError[] = [];
    for (const t of this.targets) {
      try {
        if (t.fake) fs.rmSync(t.dir, { recursive: true, force: true });
        else this.removeCgroupTree(t.dir);
      } catch (e) {
        errors.push(e instanceof CgroupError ? e : new CgroupError('sys', `cannot remove cgroup ${t.dir}: ${errnoOf(e) ?? String(e)}`, { cause: e }));
      }
    }
    if (errors.length > 0) throw errors[0];
  }

  /** cgroupfs dirs hold only kernel files, so rmdir (children first) is the whole job. */
  private removeCgroupTree(dir: string): void {
    // A container's cgroup is nearly always a leaf: try that first, and list the directory (20–40 kernel files in
    // each hierarchy) only when the kernel refuses; the walk below then says why.
    try {
      fs.rmdirSync(dir);
      return;
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return;
    }
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return;
      throw e;
    }
    for (const entry of entries) if (entry.isDirectory()) this.removeCgroupTree(path.join(dir, entry.name));
    for (let i = 1; ; i++) {
      try {
        fs.rmdirSync(dir);
        return;
      } catch (e) {
        const code = errnoOf(e);
        if (code === 'ENOENT') return;
        if (code !== 'EBUSY' || i >= RMDIR_TRIES) {
          const pids = readPidsRecursive(dir);
          throw new CgroupError(
            'sys',
            `cannot remove cgroup ${dir}: ${code ?? String(e)}${pids.length ? `, pids still in it: ${pids.join(' ')}; kill them first` : ''}`,
            { cause: e },
          );
        }
        sleepMs(RMDIR_POLL_MS);
      }
    }
  }
}

/**
 * Opens (without creating) the cgroup at `cgPath` (from {@link resolveCgroupPath}) on a detected layout.
 * `relativeTo`: the cgroups (by controller) a relative `cgPath` hangs from; this process's by default.
 *
 * @example
 * const cg = openCgroup(detectLayout(), '/runts/web');
 * if (cg.exists()) cg.freeze();
 */
export function openCgroup(layout: CgroupLayout, cgPath: string, relativeTo?: Record<string, string>): CgroupManager {
  return new CgroupManager(layout, cgPath, relativeTo);
}
