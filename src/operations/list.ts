/** `list`: every container of the root, each reconciled with the kernel. */
import type { RuntsError } from '../errors.js';
import { stateOf, type OperationContext } from './context.js';
import type { ContainerState } from './types.js';

export async function listContainers(ctx: OperationContext): Promise<ContainerState[]> {
  const states: ContainerState[] = [];
  // Records without their specs: stateOf needs none, and an effect that runs in a refresh fetches its own.
  for (const record of ctx.store.list({ withSpec: false })) {
    try {
      states.push(stateOf(await ctx.host.refresh(record, { statusOnly: true })));
    } catch (e) {
      // A record deleted or changed by another process while we listed (or stored by another runts version): skip it
      // rather than fail the list.
      const code = (e as RuntsError).code;
      if (code !== 'not_found' && code !== 'conflict' && code !== 'bad_state') throw e;
    }
  }
  return states;
}
