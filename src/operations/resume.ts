/** `resume`: thaw a paused container. */
import { findRecord, type OperationContext } from './context.js';

export async function resumeContainer(ctx: OperationContext, id: string): Promise<void> {
  await ctx.host.dispatch(findRecord(ctx, id, 'change'), { type: 'container.resume' });
}
