import { createActor } from 'xstate';
import { containerMachine, MACHINE_VERSION } from '../machines/container.js';
import { SCHEMA_VERSION, Store, storeDamage, type ContainerFacts, type RepairOutcome, type StoreLocker } from '../persistence/store.js';
import { readFactsFiles } from '../persistence/facts-file.js';
import { socketPath } from '../supervisor/protocol.js';
import { socketAnswers } from '../supervisor/call.js';
import { RuntsError } from '../errors.js';

export class RepairError extends RuntsError {}

/** What `repairStore` did. */
export interface RepairReport extends RepairOutcome {
  /** State directories without a valid facts file (an earlier runts's, or not a container's): left alone. */
  skipped: string[];
}

/**
 * Rebuilds the damaged store of `root` from the facts files in the containers' state directories (see
 * Store.repair): one record per container, whose chart starts where its facts put it — `created` once its init
 * was recorded, else `creating` — and is moved by the usual reconcile of the next command to what the kernel says
 * (init alive and started → running, its cgroup frozen → paused, init gone → stopped; a create whose runts
 * died → stopped). Undefined when the store is not damaged (nothing is changed then).
 * @example const report = repairStore('/run/runts', nativePort()); // { why, movedAside, inserted, skipped }
 */
export function repairStore(root: string, sys: StoreLocker): RepairReport | undefined {
  let skipped: string[] = [];
  const outcome = Store.repair(root, sys, () => {
    const found = readFactsFiles(root);
    skipped = found.skipped;
    return found.facts.map((facts) => {
      const at: Record<string, string> = facts.initPid > 0 ? { created: 'idle' } : { creating: 'pending' };
      return {
        record: { facts, snapshot: snapshotAt(facts.id, at), schemaVersion: SCHEMA_VERSION, machineVersion: MACHINE_VERSION },
        transitions: [{ id: facts.id, from: '', to: Object.entries(at)[0].join('.'), event: 'store.repaired', time: new Date().toISOString(), pid: process.pid }],
      };
    });
  });
  return outcome && { ...outcome, skipped };
}

/**
 * `repairStore`, refused while a supervisor serves the root: it has the damaged file mapped and would go on using
 * it (moved aside) next to the fresh one. (With a supervisor, only the check of the file's pages is made.)
 */
export async function repair(root: string, sys: StoreLocker): Promise<RepairReport | undefined> {
  const sock = socketPath(root);
  if (await socketAnswers(sock)) {
    const why = storeDamage(root);
    if (why === undefined) return undefined;
    throw new RepairError('bad_state', `state database of ${root} is damaged (${why}) but a supervisor serves it (${sock}): stop it, then run repair again`);
  }
  return repairStore(root, sys);
}

/** The persisted snapshot of a new actor of `id` resting in `value` (a quiet state: nothing to restart). */
function snapshotAt(id: ContainerFacts['id'], value: Record<string, string>): unknown {
  const actor = createActor(containerMachine(), { input: { id } });
  actor.start();
  const snapshot = actor.getPersistedSnapshot() as unknown as { value: unknown };
  actor.stop();
  return { ...snapshot, value };
}
