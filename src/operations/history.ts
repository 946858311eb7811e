/** `history`: a container's transition log (kept after delete, bounded), and dropping the logs of deleted ones. */
import type { RuntsError } from '../errors.js';
import { stateError } from '../machines/container.js';
import { resolveContainerId, validateId } from '../oci/id.js';
import type { TransitionRecord } from '../persistence/store.js';
import { RuntimeError, type OperationContext } from './context.js';

export async function containerHistory(ctx: OperationContext, id: string): Promise<TransitionRecord[]> {
  let full = id;
  try {
    full = resolveContainerId(ctx.store, id, 'read');
  } catch (e) {
    if ((e as RuntsError).code !== 'not_found') throw e; // invalid, or ambiguous; a deleted container is looked up as given
  }
  const log = ctx.store.history(full);
  if (log.length === 0) throw new RuntimeError('not_found', `container "${id}" has no history: check the ID with runts list`);
  return log;
}

/** Drops the log of deleted container `id` (exact), or with no id those of every deleted container; returns the ids. */
export async function purgeHistory(ctx: OperationContext, id?: string): Promise<string[]> {
  if (id === undefined) return ctx.store.purgeDeletedHistories();
  validateId(id);
  if (ctx.store.get(id, { withSpec: false })) {
    throw stateError(`container "${id}" exists: its history is kept until it is deleted`);
  }
  if (ctx.store.history(id).length === 0) throw new RuntimeError('not_found', `container "${id}" has no history: give the exact ID of a deleted container`);
  ctx.store.purgeHistory(id);
  return [id];
}
