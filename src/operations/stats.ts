/** `events --stats` and OOM events: the figures of the container's cgroup. */
import type { CgroupStats } from '../linux/cgroups/index.js';
import { containerCgroup } from '../actors/container-cgroup.js';
import { queryable, type OperationContext } from './context.js';

/** cpu, memory, pids and blkio figures of a live container's cgroup. */
export async function containerStats(ctx: OperationContext, id: string): Promise<CgroupStats> {
  const settled = await queryable(ctx, id, 'get stats of', 'read', 'live');
  return containerCgroup(ctx.host.env.ports.cgroups, settled.facts, 'events --stats').stats();
}

/**
 * How many processes of the container the kernel's OOM killer has killed so far (`runts events` reports each new one
 * as {"type":"oom"}, as runc). Also after the container stopped, while its cgroup is there.
 */
export async function containerOomKills(ctx: OperationContext, id: string): Promise<number> {
  const settled = await queryable(ctx, id, 'read OOM kills of', 'read', 'processes');
  return settled.facts.noCgroup ? 0 : ctx.host.env.ports.cgroups.open(settled.facts.cgroupPath, settled.facts.cgroupRelativeTo).oomKills();
}
