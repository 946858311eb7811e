/** `pause`: freeze every process of the container (its cgroup's freezer). */
import { findRecord, type OperationContext } from './context.js';

export async function pauseContainer(ctx: OperationContext, id: string): Promise<void> {
  await ctx.host.dispatch(findRecord(ctx, id, 'change'), { type: 'container.pause' });
}
