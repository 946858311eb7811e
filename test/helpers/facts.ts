import { createActor } from 'xstate';
import { containerMachine, MACHINE_VERSION } from '../../src/machines/container.js';
import { nativePort } from '../../src/native/index.js';
import { SCHEMA_VERSION, Store, type ContainerFacts } from '../../src/persistence/store.js';

/** The facts of a made-up container for store-level unit tests (no process or cgroup behind them). */
export function sampleFacts(id: string, annotations: Record<string, string> = {}): ContainerFacts {
  return {
    id,
    bundle: `/bundles/${id}`,
    rootfs: `/bundles/${id}/rootfs`,
    sandboxId: id,
    initPid: 4242,
    initStartTime: 123456,
    goferPid: 4243,
    cgroupPath: `/runts/${id}`,
    created: '2024-01-02T03:04:05.000Z',
    owner: 'root',
    annotations,
    creatorPid: 100,
    creatorStartTime: 99,
  };
}

/** Where a made-up container rests, and the moves that led there (what a real one's history would hold). */
const RESTING: Record<'running' | 'paused' | 'stopped', { value: Record<string, string>; path: [string, string][] }> = {
  running: { value: { running: 'idle' }, path: [['creating.pending', 'container.create'], ['creating.spawning', 'container.create'], ['created.idle', 'xstate.done.actor.spawnInit'], ['created.starting', 'container.start'], ['running.idle', 'xstate.done.actor.startInit']] },
  paused: { value: { paused: 'idle' }, path: [['creating.pending', 'container.create'], ['created.idle', 'xstate.done.actor.spawnInit'], ['running.idle', 'xstate.done.actor.startInit'], ['running.pausing', 'container.pause'], ['paused.idle', 'xstate.done.actor.freezeCgroup']] },
  stopped: { value: { stopped: 'idle' }, path: [['creating.pending', 'container.create'], ['created.idle', 'xstate.done.actor.spawnInit'], ['running.idle', 'xstate.done.actor.startInit'], ['stopped.idle', 'observed.exited']] },
};

/**
 * Inserts made-up containers into the store of `root`, in one transaction, as `runts create` would have stored
 * them (a record with a snapshot resting in `status`, and a history that leads there): the visualizer and `list`
 * read them as real ones. No process or cgroup exists: their init is the calling process itself (alive, so a
 * reconcile leaves a running or paused one as it is; no cgroup, so no freezer says otherwise).
 */
export function insertContainers(root: string, containers: { id: string; status: keyof typeof RESTING; sandbox?: string }[]): void {
  const store = Store.open(root, nativePort());
  try {
    const actor = createActor(containerMachine(), { input: { id: 'template' } });
    actor.start();
    const initial = actor.getPersistedSnapshot() as unknown as Record<string, unknown> & { context: Record<string, unknown> };
    actor.stop();
    const time = new Date().toISOString();
    store.transaction(() => {
      for (const { id, status, sandbox } of containers) {
        const rest = RESTING[status];
        const facts: ContainerFacts = { ...sampleFacts(id), sandboxId: sandbox ?? id, initPid: process.pid, initStartTime: null, goferPid: 0, creatorPid: process.pid, creatorStartTime: null, created: time };
        const snapshot = { ...initial, value: rest.value, context: { ...initial.context, id, exitStatus: status === 'stopped' ? 0 : null } };
        let from = '';
        const transitions = [['creating.pending', 'xstate.init'] as [string, string], ...rest.path.slice(1)].map(([to, event]) => {
          const t = { id, from, to, event, time, pid: process.pid, ...(event === 'observed.exited' ? { exitStatus: 0 } : {}) };
          from = to;
          return t;
        });
        store.insert({ facts, snapshot, schemaVersion: SCHEMA_VERSION, machineVersion: MACHINE_VERSION }, transitions);
      }
    });
  } finally {
    store.close();
  }
}
