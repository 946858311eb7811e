import { parentPort } from 'node:worker_threads';
import { oomMember, planOomScores } from '../linux/oom-score.js';
import { Store } from '../persistence/store.js';
import { nativePort } from '../native/index.js';
import type { SyscallPort } from '../native/port.js';
import type { Spec } from '../oci/types.js';
import { exposeToParent } from './comlink.js';

export interface RebalanceRequest {
  root: string;
  sandboxId: string;
  /** True after a container of the sandbox was destroyed (enables the revert to the parent's score). */
  destroyed: boolean;
}

export interface RebalanceResult {
  sandboxPid: number;
  sandboxScore: number | undefined;
  gofers: { pid: number; score: number }[];
}

/**
 * Applies the sandbox's OOM scores from the store's current facts. Requests are processed strictly in order (a
 * promise chain), and each one reads and writes under the store's cross-process lock, so concurrent creates —
 * here or in other runts processes — cannot leave a stale score behind (the race gVisor's TODO admits).
 */
export class OomRebalancer {
  private chain: Promise<unknown> = Promise.resolve();
  private stores = new Map<string, Store>();

  /** `sys`: the port it reads and writes /proc and takes the store's lock through (nativePort() in the worker). */
  constructor(private readonly sys: SyscallPort) {}

  rebalance(req: RebalanceRequest): Promise<RebalanceResult | null> {
    const next = this.chain.then(() => this.apply(req));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private apply(req: RebalanceRequest): RebalanceResult | null {
    let store = this.stores.get(req.root);
    if (!store) this.stores.set(req.root, (store = Store.open(req.root, this.sys)));
    return store.transaction(() => {
      const records = store!.list().filter((r) => r.facts.sandboxId === req.sandboxId);
      const sandbox = records.find((r) => r.facts.id === req.sandboxId);
      if (!sandbox || sandbox.facts.initPid <= 0) return null; // the sandbox is gone: nothing to adjust
      const pid = sandbox.facts.initPid;
      const plan = planOomScores(
        records.map((r) => oomMember(r.facts.id, r.facts.spec as Spec, r.facts.goferPid)),
        req.destroyed,
        () => {
          const ppid = this.sys.procStat(pid)?.ppid;
          return ppid ? this.sys.readOomScoreAdj(ppid) : null;
        },
      );
      // A process that already exited is not an error (writeOomScoreAdj returns false).
      if (plan.sandboxScore !== undefined) this.sys.writeOomScoreAdj(pid, plan.sandboxScore);
      for (const g of plan.gofers) this.sys.writeOomScoreAdj(g.pid, g.score);
      return { sandboxPid: pid, ...plan };
    });
  }
}

// The worker's entry: a thread cannot be handed the caller's port object, so it takes the real one here.
if (parentPort) exposeToParent(new OomRebalancer(nativePort()), parentPort);
