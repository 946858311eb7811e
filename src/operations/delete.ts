/**
 * `delete`: destroy a stopped (or created) container; with `force` also a running or paused one, and a missing
 * container is no error (as runc: managers repeat `delete --force` to be sure).
 */
import type { LiveFacts } from '../actors/ports.js';
import type { RuntsError } from '../errors.js';
import { deleteStopsChildren } from '../machines/container.js';
import type { ContainerRecord } from '../persistence/store.js';
import { findRecord, rebalanceOom, type OperationContext } from './context.js';

export async function deleteContainer(ctx: OperationContext, id: string, opts: { force?: boolean } = {}): Promise<void> {
  const { host, store } = ctx;
  const force = opts.force ?? false;
  let record: ContainerRecord;
  try {
    record = findRecord(ctx, id, 'change');
  } catch (e) {
    if (force && (e as RuntsError).code === 'not_found') return;
    throw e;
  }
  const { facts } = record;
  // Destroying the sandbox brings its children down first: their processes die, their records go to stopped (and
  // their cgroups, nested under the sandbox's, go with it); each child is then deleted on its own.
  if (deleteStopsChildren(facts)) {
    // Without specs: every container of the root is read, and the kill's effect fetches a child's spec if it runs.
    for (const child of store.list({ withSpec: false }).filter((r) => r.facts.sandboxId === facts.id && r.facts.id !== facts.id)) {
      await host.dispatch(child, { type: 'container.kill', signal: 9, all: true }).catch(() => undefined);
    }
  }
  // --force on a live container asks its processes to stop first (SIGTERM, then SIGKILL at the deadline).
  await host.dispatch(record, { type: 'container.delete', force }, { destroy: { graceful: force } });
  if (facts.sandboxId !== facts.id) await rebalanceOom(ctx, facts as LiveFacts, true);
}
