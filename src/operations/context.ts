/**
 * What every operation works with, and the steps several of them share: find a record by ID, reconcile it and ask the
 * chart whether a query may look at it, describe it as runc does, write a pid file.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { ContainerHost, Settled } from '../actors/host.js';
import type { LiveFacts } from '../actors/ports.js';
import { RuntsError } from '../errors.js';
import { CONTAINER_TYPE } from '../linux/oom-score.js';
import { canQuery, refusalError } from '../machines/container.js';
import { runcStateJson } from '../oci/state.js';
import { resolveContainerId, type IdUse } from '../oci/id.js';
import type { ContainerRecord, Store } from '../persistence/store.js';
import type { Spec } from '../oci/types.js';
import type { OomRebalancer } from '../workers/oom-rebalancer.js';
import type { SyscallPort } from '../native/port.js';
import type { WorkerPool } from '../workers/pool.js';
import type { ContainerState } from './types.js';

export class RuntimeError extends RuntsError {}

/** One open runtime: its root, its store, the host that dispatches to the charts, its worker actors, its log. */
export interface OperationContext {
  readonly root: string;
  readonly store: Store;
  readonly host: ContainerHost;
  readonly workers: WorkerPool;
  readonly log: Logger;
  /** The process a command handed over by the native front came from (see CommandCaller); absent: this process. */
  readonly caller?: CommandCaller;
}

/**
 * The process that called a command a warm host runs for the native front (src/supervisor/front-host.ts). It is the
 * containers' creator (their init is its child: it spawns them from the host's plans), and `port` turns the host's
 * SyscallPort into the command's: spawns and waits of its processes go to it.
 */
export interface CommandCaller {
  pid: number;
  startTime: number | null;
  port: (base: SyscallPort) => SyscallPort;
}

/** The record of the container `id` names: abbreviated IDs only for reading (the rule: `IdUse` in src/oci/id.ts). */
export function findRecord(ctx: OperationContext, id: string, use: IdUse): ContainerRecord {
  const record = ctx.store.get(resolveContainerId(ctx.store, id, use));
  // Deleted between the two reads.
  if (!record) throw new RuntimeError('not_found', `container "${id}" does not exist`);
  return record;
}

/** Reconciles the container and checks the chart lets the query `what` (see canQuery) look at it now. */
export async function queryable(ctx: OperationContext, id: string, op: string, use: IdUse, what: 'processes' | 'live'): Promise<Settled> {
  const settled = await ctx.host.refresh(findRecord(ctx, id, use));
  if (!canQuery(settled.status, what)) throw refusalError(settled.facts.id, settled.status, op);
  return settled;
}

/** The container as `state` prints it. */
export function stateOf(s: Settled): ContainerState {
  const f = s.facts;
  return {
    ...runcStateJson({
      // The bundle's, as runc reports it (kept in the facts too, for listings read without specs).
      ociVersion: f.ociVersion ?? f.spec?.ociVersion,
      id: f.id,
      status: s.status,
      pid: f.initPid,
      bundle: f.bundle,
      rootfs: f.rootfs,
      created: f.created,
      owner: f.owner,
      annotations: f.annotations,
    }),
    sandbox: f.sandboxId,
  };
}

/** Atomic: containerd watches for the file, so it must never see it half-written. */
export function writePidFile(path: string, pid: number): void {
  const tmp = join(dirname(path), `.${process.pid}.pid.tmp`);
  writeFileSync(tmp, String(pid), { mode: 0o644 });
  renameSync(tmp, path);
}

/** The container's processes are in a user namespace (its own or a joined one). */
export function hasUserNamespace(spec: Spec): boolean {
  return (spec.linux?.namespaces ?? []).some((n) => n.type === 'user');
}

/**
 * Re-applies the sandbox's OOM scores (see src/linux/oom-score.ts) through its rebalancer actor, which serialises
 * requests. Skipped where no score is involved, so plain containers never start the worker.
 */
export async function rebalanceOom(ctx: OperationContext, facts: LiveFacts, destroyed: boolean): Promise<void> {
  const inSandbox = facts.sandboxId !== facts.id || facts.annotations?.[CONTAINER_TYPE] === 'sandbox';
  if (!inSandbox && facts.spec.process?.oomScoreAdj === undefined) return;
  try {
    // One rebalancer per root, not per sandbox: it applies requests one at a time anyway, and a warm host that started
    // a thread for every sandbox (every container that sets process.oomScoreAdj, as Docker's and Podman's all do) kept
    // them all, and made each such create wait for a thread's start.
    await ctx.workers.actor<OomRebalancer>('oom-rebalancer', ctx.root).rebalance({ root: ctx.root, sandboxId: facts.sandboxId, destroyed });
  } catch (e) {
    ctx.log.warn({ id: facts.id, sandbox: facts.sandboxId, err: (e as Error).message }, 'OOM score rebalance failed');
  }
}
