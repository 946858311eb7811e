/** `state`: the container reconciled with the kernel, as runc prints it. */
import { findRecord, stateOf, type OperationContext } from './context.js';
import type { ContainerState } from './types.js';

export async function containerState(ctx: OperationContext, id: string): Promise<ContainerState> {
  return stateOf(await ctx.host.refresh(findRecord(ctx, id, 'read')));
}
