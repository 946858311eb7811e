/** `ps`: the host pids of every process in the container. */
import { containerPids as cgroupPids } from '../actors/container-cgroup.js';
import { queryable, type OperationContext } from './context.js';

export async function containerPids(ctx: OperationContext, id: string): Promise<number[]> {
  // As runc, a stopped container is not an error: it lists what is left in its cgroup (usually nothing).
  const settled = await queryable(ctx, id, 'ps', 'read', 'processes');
  return cgroupPids(ctx.host.env.ports, settled.facts);
}
