import { CgroupError, type CgroupManager } from '../linux/cgroups/index.js';
import type { SubCgroups } from '../linux/cgroups/index.js';
import type { ContainerFacts } from '../persistence/store.js';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CgroupPort } from './ports.js';

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
  return cgroups.open(facts.cgroupPath);
}

/** The pids of the container: its cgroup's; the init alone without a cgroup (its pid namespace holds the rest). */
export function containerPids(cgroups: CgroupPort, facts: ContainerFacts): number[] {
  if (facts.noCgroup) return facts.initPid > 0 && existsSync(`/proc/${facts.initPid}`) ? [facts.initPid] : [];
  return cgroups.open(facts.cgroupPath).pids();
}

/**
 * The cgroup.procs files a new process of the container joins: none without a cgroup; for a container made
 * without root, only those of the hierarchies its cgroup was made in (the others were not the user's to write).
 */
export function joinProcsFiles(cgroups: CgroupPort, facts: ContainerFacts, sub?: SubCgroups): string[] {
  if (facts.noCgroup) return [];
  const files = cgroups.open(facts.cgroupPath).procsFiles(sub);
  return facts.rootless ? files.filter((f) => existsSync(dirname(f))) : files;
}
