import { CgroupError, type CgroupManager } from '../linux/cgroups/index.js';
import type { SubCgroups } from '../linux/cgroups/index.js';
import type { ContainerFacts } from '../persistence/store.js';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isProcessAlive } from '../linux/proc.js';
import type { CgroupPort, Ports } from './ports.js';

/**
 * The container's cgroup, for an operation that needs one (`what`: "pause", "update", ...). A container created
 * without root where no cgroup was delegated has none (runc refuses these operations the same way): its cgroup
 * path is only a name then — another user's container may hold it — so nothing may read or write it.
 */
export function containerCgroup(cgroups: CgroupPort, facts: ContainerFacts, what: string): CgroupManager {
  if (facts.noCgroup) {
    throw new CgroupError(
      'bad_state',
      `container "${facts.id}" has no cgroup (runts ran it without root and no cgroup was delegated to the user): ${what} needs one; delegate a cgroup v2 subtree to the user and set linux.cgroupsPath inside it`,
    );
  }
  return cgroups.open(facts.cgroupPath, facts.cgroupRelativeTo);
}

/**
 * The pids of the container: its cgroup's; without a cgroup, the init alone (its pid namespace holds the rest) while
 * it lives — the same process, by its start time, not whatever now has its pid.
 */
export function containerPids({ sys, cgroups }: Pick<Ports, 'sys' | 'cgroups'>, facts: ContainerFacts): number[] {
  if (facts.noCgroup) return facts.initPid > 0 && isProcessAlive(sys, facts.initPid, facts.initStartTime) ? [facts.initPid] : [];
  return cgroups.open(facts.cgroupPath, facts.cgroupRelativeTo).pids();
}

/**
 * The cgroup.procs files a new process of the container joins: none without a cgroup; for a container made
 * without root, only those of the hierarchies its cgroup was made in (the others were not the user's to write).
 */
export function joinProcsFiles(cgroups: CgroupPort, facts: ContainerFacts, sub?: SubCgroups, warn: (msg: string) => void = () => undefined): string[] {
  if (facts.noCgroup) return [];
  const files = cgroups.open(facts.cgroupPath, facts.cgroupRelativeTo).procsFiles(sub);
  if (!facts.rootless) return files;
  return files.filter((f) => {
    if (!existsSync(dirname(f))) return false;
    if (mayJoin(f)) return true;
    // runc's rootless cgroup manager ignores the same refusal.
    warn(`runts runs without root and may not move the process into ${dirname(f)} (write access to cgroup.procs of the common ancestor with its own cgroup is needed): it stays in its own cgroup`);
    return false;
  });
}

/**
 * Whether this process may move itself into the cgroup of `procsFile`. cgroup v2 asks for write access to the
 * cgroup.procs of the common ancestor of the process's cgroup and the target (cgroup-v2 "delegation containment"): a
 * user's shell outside its delegated subtree may not. v1 asks for the target's file only.
 */
function mayJoin(procsFile: string): boolean {
  const dir = dirname(procsFile);
  const writable = (file: string) => {
    try {
      accessSync(file, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (!existsSync(join(dir, 'cgroup.controllers'))) return writable(procsFile);
  // The v2 root is the first ancestor without cgroup.type (only non-root cgroups have one).
  let top = dir;
  while (existsSync(join(top, 'cgroup.type')) && dirname(top) !== top) top = dirname(top);
  const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3) ?? '/';
  const ownDir = join(top, own);
  let common = dir;
  while (common !== top && !(ownDir === common || ownDir.startsWith(`${common}/`))) common = dirname(common);
  return writable(join(common, 'cgroup.procs'));
}
