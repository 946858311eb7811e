/**
 * The exit recorder: every write of an init's exit to its container's chart goes through here (or, for the one
 * writer that only infers it, through the chart's own reconcile rule, src/machines/observe.ts).
 *
 * Who records an exit, by precedence (the chart takes the first exit committed; a stopped container refuses any later
 * one, so precedence is a matter of who writes first, and the writers below are arranged so that the one who knows
 * most writes first):
 * 1. The init's parent, which reaps it and so has its exit status: the resident host for the containers it created
 *    (`recordExits`, one store transaction per SIGCHLD burst), a foreground `runts run` for its own (`recordExit`).
 * 2. The resident host's non-child watcher (a pidfd on an init another process created), which only learns that it
 *    ended: it never writes while a parent that will record the status lives ({@link parentRecordsExit}), and
 *    otherwise waits a grace period and writes only if nobody changed the record meanwhile (the process that stopped
 *    the container, a delete, is about to write it).
 * 3. Any command's reconcile (ContainerHost), which finds the init gone with nothing recorded: `observed.exited`
 *    with status null. A dispatch of the exit itself skips the reconcile, so it never overwrites a known status.
 * A lost compare-and-set (`conflict`) is retried on the record as it is now; a refusal (`bad_state`) means another
 * writer recorded it already.
 */
import type { ContainerHost } from './host.js';
import { isProcessAlive, type ProcReader } from '../linux/proc.js';
import type { ContainerFacts, ContainerRecord, Store } from '../persistence/store.js';

/** One reaped init: its container, pid and exit status. */
export interface Exit {
  id: string;
  pid: number;
  exitStatus: number | null;
}

/**
 * Moves a container's chart to stopped with its init's exit status, as the process that reaped the init.
 *
 * A dispatch of an `observed.*` event does not reconcile first (which would see the dead init and record the exit
 * without a status), so the only fact delivered is ours. Retries when another process wrote the record meanwhile;
 * does nothing when the container is gone, has another init, or is already stopped.
 * @returns true when the exit was recorded.
 * @example await recordExit(host, store, 'web', 4242, 137);
 */
export async function recordExit(host: ContainerHost, store: Store, id: string, pid: number, exitStatus: number | null): Promise<boolean> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const record = recordOf(store, id, pid);
    if (!record) return false;
    try {
      await host.dispatch(record, { type: 'observed.exited', exitStatus });
      return true;
    } catch (e) {
      if (lostRace(e as Error)) continue; // another process wrote it: read it again
      if (refused(e as Error)) return false; // already stopped
      throw e;
    }
  }
  return false;
}

/**
 * Records several exits (the inits reaped on one SIGCHLD) with one store transaction, so a burst of N exits costs one
 * commit and one disk flush instead of N, and all of them become visible at once. An exit that lost a race with
 * another writer is recorded again on its own (recordExit). Results in the order of `exits`.
 */
export async function recordExits(host: ContainerHost, store: Store, exits: Exit[]): Promise<(boolean | Error)[]> {
  const results: (boolean | Error)[] = exits.map(() => false);
  const items: { record: ContainerRecord; event: { type: 'observed.exited'; exitStatus: number | null } }[] = [];
  const at: number[] = [];
  exits.forEach(({ id, pid, exitStatus }, i) => {
    const record = recordOf(store, id, pid);
    if (!record) return;
    items.push({ record, event: { type: 'observed.exited', exitStatus } });
    at.push(i);
  });
  const settled = await host.dispatchMany(items);
  for (const [k, outcome] of settled.entries()) {
    const i = at[k]!;
    if (!(outcome instanceof Error)) results[i] = true;
    else if (lostRace(outcome)) {
      const { id, pid, exitStatus } = exits[i]!;
      results[i] = await recordExit(host, store, id, pid, exitStatus).catch((e: Error) => e);
    } else if (!refused(outcome)) results[i] = outcome;
  }
  return results;
}

/** The record of the container whose init `pid` was; undefined once it is deleted or re-created with another init. */
function recordOf(store: Store, id: string, pid: number): ContainerRecord | undefined {
  // Without its spec: the exit only moves the chart (the host fetches the spec should an effect need it).
  const record = store.get(id, { withSpec: false });
  return record?.facts.initPid === pid ? record : undefined;
}

/**
 * Whether the exit of an init whose parent was `parentPid` is left to that parent: the container's creator, still
 * alive (a foreground `runts run` waits for it and records its status).
 */
export function parentRecordsExit(sys: ProcReader, facts: ContainerFacts, parentPid: number | undefined): boolean {
  return facts.creatorPid === parentPid && isProcessAlive(sys, facts.creatorPid, facts.creatorStartTime);
}

/** Another process wrote the record between our read and our write. */
const lostRace = (e: Error) => (e as { code?: string }).code === 'conflict';
/** The chart does not take the exit: the container is already stopped. */
const refused = (e: Error) => (e as { code?: string }).code === 'bad_state';
