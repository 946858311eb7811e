/** `kill`: a signal (number) to the init, or with `all` to every process of the container. */
import { findRecord, type OperationContext } from './context.js';

export async function killContainer(ctx: OperationContext, id: string, signal = 15, opts: { all?: boolean } = {}): Promise<void> {
  await ctx.host.dispatch(findRecord(ctx, id, 'change'), { type: 'container.kill', signal, all: opts.all ?? false });
}
