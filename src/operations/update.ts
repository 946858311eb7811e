/** `update`: change the resource limits of a live container (applied to its cgroup at once). */
import type { LinuxResources } from '../oci/types.js';
import { findRecord, type OperationContext } from './context.js';

export async function updateContainer(ctx: OperationContext, id: string, resources: LinuxResources): Promise<void> {
  await ctx.host.dispatch(findRecord(ctx, id, 'change'), { type: 'container.update' }, { update: resources });
}
