/** `start`: run the user program of a created container; a start that fails tears it down when the chart says so. */
import { startFailureTearsDown } from '../machines/container.js';
import { findRecord, rebalanceOom, stateOf, type OperationContext } from './context.js';
import { deleteContainer } from './delete.js';
import type { ContainerState } from './types.js';

export async function startContainer(ctx: OperationContext, id: string): Promise<ContainerState> {
  const record = findRecord(ctx, id, 'change');
  try {
    const settled = await ctx.host.dispatch(record, { type: 'container.start' });
    await rebalanceOom(ctx, settled.facts, false);
    return stateOf(settled);
  } catch (e) {
    // OCI: a failed start (a startContainer hook) stops and destroys the container.
    if (startFailureTearsDown(e) && ctx.store.get(record.facts.id)) await deleteContainer(ctx, record.facts.id, { force: true }).catch(() => undefined);
    throw e;
  }
}
