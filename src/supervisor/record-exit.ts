import type { ContainerHost } from '../actors/host.js';
import type { Store } from '../persistence/store.js';

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
    // Without its spec: the exit only moves the chart (the host fetches the spec should an effect need it).
    const record = store.get(id, { withSpec: false });
    if (!record || record.facts.initPid !== pid) return false; // deleted, or re-created with another init
    try {
      await host.dispatch(record, { type: 'observed.exited', exitStatus });
      return true;
    } catch (e) {
      if (/changed concurrently/.test((e as Error).message)) continue; // another process wrote it: read it again
      if ((e as { code?: string }).code === 'bad_state') return false; // refused: already stopped
      throw e;
    }
  }
  return false;
}
