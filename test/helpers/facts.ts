import type { ContainerFacts } from '../../src/persistence/store.js';

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
