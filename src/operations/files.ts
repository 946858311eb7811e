/**
 * Files inside a container, through its gofer (the broker in its mount namespace): paths are the container's, and
 * one that leaves the rootfs (`..`, a symlink pointing out) is refused by the gofer. The container must not be
 * stopped: its gofer is gone with it.
 */
import type { GoferData, GoferDirEntry } from '../gofer/client.js';
import type { IdUse } from '../oci/id.js';
import { queryable, type OperationContext } from './context.js';

export async function readContainerFile(ctx: OperationContext, id: string, path: string): Promise<Buffer> {
  const { goferRead } = await import('../gofer/client.js');
  return goferRead(ctx.root, await brokerOf(ctx, id, 'read'), path);
}

export async function* streamContainerFile(ctx: OperationContext, id: string, path: string): AsyncGenerator<Buffer> {
  const { goferReadStream } = await import('../gofer/client.js');
  yield* goferReadStream(ctx.root, await brokerOf(ctx, id, 'read'), path);
}

/** Creates or replaces a file. */
export async function writeContainerFile(ctx: OperationContext, id: string, path: string, data: GoferData, opts: { mode?: number } = {}): Promise<void> {
  const { goferWrite } = await import('../gofer/client.js');
  await goferWrite(ctx.root, await brokerOf(ctx, id, 'change'), path, data, opts);
}

export async function listContainerDir(ctx: OperationContext, id: string, path: string): Promise<GoferDirEntry[]> {
  const { goferList } = await import('../gofer/client.js');
  return goferList(ctx.root, await brokerOf(ctx, id, 'read'), path);
}

/** The full ID of the container whose gofer serves the call. */
async function brokerOf(ctx: OperationContext, id: string, use: IdUse): Promise<string> {
  const settled = await queryable(ctx, id, 'reach files of', use, 'live');
  return settled.facts.id;
}
