import { renameSync, writeFileSync } from 'node:fs';
import { constants as osConstants, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { silentLogger } from './log.js';
import { callerEnv } from './cli-io.js';
import { ContainerHost, UnrecordedError, type Settled } from './actors/host.js';
import type { ContainerEnv, LiveFacts, Ports } from './actors/ports.js';
import { kernelObserver } from './actors/reconcile.js';
import { defaultPorts } from './actors/default-ports.js';
import { describeSpawnError } from './actors/spawn-errors.js';
import { crashPoint } from './debug/crash.js';
import { WorkerPool } from './workers/pool.js';
import { RuntsError } from './errors.js';
import { nativePort } from './native/index.js';
import type { SyscallPort } from './native/port.js';
import { loadBundle, type Bundle } from './oci/config.js';
import { pidFor } from './oci/state.js';
import { PtyRelay } from './linux/pty-relay.js';
import { resolveContainerId, validateId, type IdUse } from './oci/id.js';
import { Store, type ContainerRecord } from './persistence/store.js';
import {
  canHostChildren,
  canQuery,
  deleteStopsChildren,
  refusalError,
  sandboxRefusal,
  startFailureTearsDown,
  stateError,
  type ContainerStatus,
} from './machines/container.js';
import type { LinuxNamespace, LinuxResources, Process, Spec } from './oci/types.js';
import { CONTAINER_TYPE, SANDBOX_ID } from './linux/oom-score.js';
import type { OomRebalancer } from './workers/oom-rebalancer.js';
import type { GoferData, GoferDirEntry } from './gofer/client.js';
import type { CgroupStats, SubCgroups } from './linux/cgroups/index.js';
import { followFeed, type EventsOptions, type RuntimeEvent } from './supervisor/events.js';
import type { Resident, ServeOptions } from './supervisor/supervisor.js';
import { recordExit } from './supervisor/record-exit.js';
import type { TransitionRecord } from './persistence/store.js';
import type { RepairReport } from './actors/repair.js';

export type { EventsOptions, RuntimeEvent, TransitionEvent, ExitEvent } from './supervisor/events.js';
export type { Resident, ServeOptions } from './supervisor/supervisor.js';
export type { TransitionRecord } from './persistence/store.js';
export type { RepairReport } from './actors/repair.js';

export class RuntimeError extends RuntsError {}

export const DEFAULT_ROOT = '/run/runts';

/** What `state` prints, as runc prints it. */
export interface ContainerState {
  ociVersion: string;
  id: string;
  pid: number;
  status: ContainerStatus;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  /** The sandbox (pod) the container belongs to: its own id for a standalone or root container. */
  sandbox: string;
}

export interface RuntimeOptions {
  /** State root (default /run/runts). */
  root?: string;
  log?: Logger;
  /** Replace effects' ports (tests). */
  ports?: Partial<Ports>;
  /** Stop deadline of delete --force and of waits after SIGKILL (default 5 s, or $RUNTS_STOP_TIMEOUT: "5s", "500ms"). */
  stopTimeoutMs?: number;
}

function stopTimeoutFromEnv(): number {
  const m = /^(\d+)(ms|s)?$/.exec(callerEnv('RUNTS_STOP_TIMEOUT') ?? '');
  return m ? Number(m[1]) * (m[2] === 'ms' ? 1 : 1000) : 5000;
}

export interface CreateOptions {
  /** Bundle directory (default: the current directory). */
  bundle?: string;
  /** Written last, with the init's pid: containerd treats its appearance as "created". */
  pidFile?: string;
  /** Unix socket that receives the pty master when process.terminal is true. */
  consoleSocket?: string;
  /** Extra fds from 3 up that the container process keeps. */
  preserveFds?: number;
  /** The container dies with this process (a foreground run): its init gets SIGKILL when its parent dies. */
  attached?: boolean;
}

/** What `exec` runs: a whole process (`--process file`), or arguments and flags over the container's process. */
export interface ExecOptions {
  process?: Process;
  args?: string[];
  /** Added to the container's environment (K=V). */
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid: number };
  /** Supplementary groups of the process (runc's `exec --additional-gids`), instead of the container's. */
  additionalGids?: number[];
  /** Capabilities added to the container's sets (they must be in its bounding set). */
  caps?: string[];
  noNewPrivs?: boolean;
  tty?: boolean;
  consoleSocket?: string;
  pidFile?: string;
  preserveFds?: number;
  detach?: boolean;
  /** runc's `--ignore-paused`: a paused container accepts the exec; the process stays frozen until resume. */
  ignorePaused?: boolean;
  /** runc's `exec --cgroup`: existing sub-cgroups of the container's to start in (see parseSubCgroups). */
  cgroups?: SubCgroups;
}

export interface RunOptions extends CreateOptions {
  /** Return once started instead of waiting for the process. */
  detach?: boolean;
  /** Keep the container (stopped) after it exits instead of deleting it. */
  keep?: boolean;
  /** While waiting, pass SIGINT, SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 this process gets on to the container's. */
  forwardSignals?: boolean;
}

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;

const ownStart = new WeakMap<SyscallPort, number | null>();
/** This process's start time (recorded as each container's creator's): read once per port, it never changes. */
function ownStartTime(sys: SyscallPort): number | null {
  if (!ownStart.has(sys)) ownStart.set(sys, sys.procStat(process.pid)?.startTime ?? null);
  return ownStart.get(sys)!;
}

/**
 * The embeddable runtime: every operation runts offers, as calls.
 *
 * IDs: the calls that only read (state, ps, stats, history, readFile, readFileStream, listDir) accept an abbreviated
 * ID, the only one starting with it; the calls that change or destroy a container (start, kill, delete, exec,
 * pause, resume, update, writeFile) act only on the exact ID, else fail with `not_found` (`IdUse` in src/oci/id.ts).
 *
 * @example
 * const rt = await Runtime.open({ root: '/run/runts' });
 * await rt.create('web', { bundle: '/srv/bundles/web' });
 * await rt.start('web');
 * console.log((await rt.state('web')).status); // "running"
 * await rt.delete('web', { force: true });
 * await rt.close();
 */
export class Runtime {
  private constructor(
    readonly root: string,
    private readonly store: Store,
    private readonly host: ContainerHost,
    private readonly workers: WorkerPool,
    readonly log: Logger,
  ) {}

  static async open(opts: RuntimeOptions = {}): Promise<Runtime> {
    const root = opts.root ?? DEFAULT_ROOT;
    const log = opts.log ?? silentLogger();
    const workers = new WorkerPool();
    const ports = { ...defaultPorts(workers), ...opts.ports };
    const store = Store.open(root, ports.sys);
    const env: ContainerEnv = { root, ports, log, stopTimeoutMs: opts.stopTimeoutMs ?? stopTimeoutFromEnv() };
    const observer = kernelObserver(ports.sys, (path) => {
      try {
        const cg = ports.cgroups.open(path);
        return cg.exists() ? cg.freezerState() : null;
      } catch {
        return null;
      }
    });
    return new Runtime(root, store, new ContainerHost(env, store, observer), workers, log);
  }

  /**
   * This Runtime as one command handed to a warm host sees it (src/supervisor/front-host.ts): the same store,
   * workers and ports, the command's logger and stop timeout (its $RUNTS_STOP_TIMEOUT); its close() leaves them open.
   */
  forCommand(log: Logger): Runtime {
    const host = new ContainerHost({ ...this.host.env, log, stopTimeoutMs: stopTimeoutFromEnv() }, this.store, this.host.observer);
    const view = new Runtime(this.root, this.store, host, this.workers, log);
    view.close = async () => undefined;
    return view;
  }

  /** Creates a container whose init waits, blocked, until `start`. */
  async create(id: string, opts: CreateOptions = {}): Promise<ContainerState> {
    return this.createFrom(id, opts);
  }

  /** create, with the bundle already loaded when the caller (`run`) had to read it first. */
  private async createFrom(id: string, opts: CreateOptions, loaded?: Bundle): Promise<ContainerState> {
    validateId(id);
    this.host.env.ports.cgroups.warmUpAttach();
    const { bundle, config, rootfs } = loaded ?? loadBundle(opts.bundle ?? process.cwd());
    if (config.process?.terminal && !opts.consoleSocket) {
      throw new RuntimeError('bad_config', 'process.terminal is true but no --console-socket was given: pass one, or set terminal to false');
    }
    const sandbox = await this.sandboxFor(id, config);
    const spec = sandbox ? joinSandbox(config, sandbox.facts.initPid) : config;
    const facts: LiveFacts = {
      id,
      bundle,
      rootfs,
      sandboxId: sandbox?.facts.id ?? id,
      initPid: 0,
      initStartTime: null,
      goferPid: 0,
      cgroupPath:
        sandbox && !config.linux?.cgroupsPath
          ? `${sandbox.facts.cgroupPath}/${id}` // children get a cgroup under their sandbox's
          : this.host.env.ports.cgroups.resolvePath(config.linux?.cgroupsPath, id),
      created: new Date().toISOString(),
      ociVersion: config.ociVersion,
      owner: userInfo().username,
      annotations: config.annotations ?? {},
      creatorPid: process.pid,
      creatorStartTime: ownStartTime(this.host.env.ports.sys),
      spec,
      ...(opts.consoleSocket ? { consoleSocket: opts.consoleSocket } : {}),
      ...(opts.preserveFds ? { preserveFds: opts.preserveFds } : {}),
      ...(opts.attached ? { attached: true } : {}),
    };
    const record = this.host.insert(facts);
    crashPoint('create.after-insert');
    let settled: Settled;
    try {
      settled = await this.host.dispatch(record, { type: 'container.create' });
    } catch (e) {
      // A failed create effect undid what it made. One that worked but could not be recorded (the store failed
      // under it) left a container nobody knows of: tear it down here. Then drop the record, so nothing is left.
      if (e instanceof UnrecordedError) {
        const { teardown } = await import('./actors/ops/destroy-container.js');
        await teardown({ facts: e.facts }, this.host.env).catch((err) => this.log.warn({ id, err: (err as Error).message }, 'undoing an unrecorded create'));
      }
      try {
        this.store.remove(id);
      } catch {
        // already gone (e.g. the very record whose loss made the write fail)
      }
      throw describeSpawnError(id, e, this.host.env.ports.sys, { capabilities: spec.process?.capabilities, userns: hasUserNamespace(spec) });
    }
    crashPoint('create.before-pidfile');
    if (opts.pidFile) {
      try {
        writePidFile(opts.pidFile, settled.facts.initPid);
      } catch (e) {
        await this.delete(id, { force: true }).catch(() => undefined);
        throw new RuntimeError('sys', `writing pid file ${opts.pidFile}: ${(e as Error).message}`, { cause: e });
      }
    }
    await this.rebalanceOom(settled.facts, false);
    return stateOf(settled);
  }

  /** Runs the user program of a created container. */
  async start(id: string): Promise<ContainerState> {
    this.host.env.ports.cgroups.warmUpAttach(); // see create: a burst of container operations stays warm
    const record = this.find(id, 'change');
    try {
      const settled = await this.host.dispatch(record, { type: 'container.start' });
      await this.rebalanceOom(settled.facts, false);
      return stateOf(settled);
    } catch (e) {
      // OCI: a failed start (a startContainer hook) stops and destroys the container (the chart says when).
      if (startFailureTearsDown(e) && this.store.get(record.facts.id)) await this.delete(record.facts.id, { force: true }).catch(() => undefined);
      throw e;
    }
  }

  /** Sends a signal (number) to the init, or with `all` to every process of the container. */
  async kill(id: string, signal = 15, opts: { all?: boolean } = {}): Promise<void> {
    await this.host.dispatch(this.find(id, 'change'), { type: 'container.kill', signal, all: opts.all ?? false });
  }

  /**
   * Deletes a stopped (or created) container; `force` also kills a running or paused one first, and makes a missing
   * container no error (as runc: managers repeat `delete --force` to be sure).
   */
  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    this.host.env.ports.cgroups.warmUpAttach(); // see create: a burst of creates and deletes stays warm
    const force = opts.force ?? false;
    let record: ContainerRecord;
    try {
      record = this.find(id, 'change');
    } catch (e) {
      if (force && (e as RuntsError).code === 'not_found') return;
      throw e;
    }
    const { facts } = record;
    // Destroying the sandbox brings its children down first: their processes die, their records go to stopped
    // (and their cgroups, nested under the sandbox's, go with it); each child is then deleted on its own.
    if (deleteStopsChildren(facts)) {
      // Without specs: every container of the root is read, and the kill's effect fetches a child's spec if it runs.
      for (const child of this.store.list({ withSpec: false }).filter((r) => r.facts.sandboxId === facts.id && r.facts.id !== facts.id)) {
        await this.host.dispatch(child, { type: 'container.kill', signal: 9, all: true }).catch(() => undefined);
      }
    }
    // --force on a live container asks its processes to stop first (SIGTERM, then SIGKILL at the deadline).
    await this.host.dispatch(record, { type: 'container.delete', force }, { destroy: { graceful: force } });
    if (facts.sandboxId !== facts.id) await this.rebalanceOom(facts as LiveFacts, true);
  }

  async state(id: string): Promise<ContainerState> {
    return stateOf(await this.host.refresh(this.find(id, 'read')));
  }

  async list(): Promise<ContainerState[]> {
    const states: ContainerState[] = [];
    // Records without their specs: stateOf needs none, and an effect that runs in a refresh fetches its own.
    for (const record of this.store.list({ withSpec: false })) {
      try {
        states.push(stateOf(await this.host.refresh(record, { statusOnly: true })));
      } catch (e) {
        // A record deleted or changed by another process while we listed (or stored by another runts version): skip
        // it rather than fail the list.
        const code = (e as RuntsError).code;
        if (code !== 'not_found' && code !== 'conflict' && code !== 'bad_state') throw e;
      }
    }
    return states;
  }

  /**
   * create + start, then (unless detached) wait for the process, delete the container (unless `keep`) and
   * return the exit status: the process's code, or 128 + signal when a signal killed it.
   */
  async run(id: string, opts: RunOptions = {}): Promise<number> {
    // A foreground run whose process wants a terminal and that got no console socket gives it a new pty, relayed to
    // this process's stdio, as runc does.
    // The bundle is read once, here, when whether to relay depends on it.
    validateId(id);
    const loaded = opts.detach || opts.consoleSocket ? undefined : loadBundle(opts.bundle ?? process.cwd());
    const relay = loaded?.config.process?.terminal ? PtyRelay.listen(this.host.env.ports.sys) : undefined;
    try {
      const status = await this.runWith(id, { ...opts, consoleSocket: relay?.socketPath ?? opts.consoleSocket }, relay, loaded);
      await relay?.finish();
      return status;
    } finally {
      relay?.close();
    }
  }

  private async runWith(id: string, opts: RunOptions, relay: PtyRelay | undefined, loaded: Bundle | undefined): Promise<number> {
    const created = await this.createFrom(id, { ...opts, attached: !opts.detach }, loaded);
    await relay?.attach();
    await this.start(id);
    if (opts.detach) return 0;
    const sys = this.host.env.ports.sys;
    const forward = (signal: NodeJS.Signals) => {
      try {
        sys.kill(created.pid, osConstants.signals[signal]);
      } catch {
        // not ours to signal any more: the wait below returns
      }
    };
    if (opts.forwardSignals) for (const s of FORWARDED_SIGNALS) process.on(s, forward);
    let status: number;
    try {
      status = exitStatus(await this.host.env.ports.sys.waitPidAsync(created.pid));
    } finally {
      if (opts.forwardSignals) for (const s of FORWARDED_SIGNALS) process.off(s, forward);
    }
    // As the init's parent, the one that has its status (see record-exit.ts); best effort: a delete follows anyway.
    await recordExit(this.host, this.store, id, created.pid, status).catch(() => undefined);
    if (!opts.keep) await this.delete(id, { force: true });
    return status;
  }

  /**
   * Starts another process in a created or running container (joining its namespaces and cgroup). Returns the
   * host pid and `wait()`, which resolves to the exit status (128 + signal when killed).
   */
  async exec(id: string, opts: ExecOptions): Promise<{ pid: number; wait: () => Promise<number> }> {
    const record = this.find(id, 'change');
    const base: Process = (record.facts as LiveFacts).spec.process ?? { args: [], cwd: "/", user: { uid: 0, gid: 0 } };
    const asked = opts.process ?? execProcessFrom(base, opts);
    const { execCapabilities } = await import('./linux/plan-exec.js');
    // No capabilities asked for: the container's; more than its bounding set: refused (see execCapabilities).
    const proc: Process = { ...asked, capabilities: execCapabilities(record.facts.id, asked.capabilities, base.capabilities) };
    if (proc.terminal && !opts.consoleSocket && opts.detach) {
      throw new RuntimeError('bad_config', 'a detached exec with a terminal needs --console-socket: pass one, or drop --tty');
    }
    const sys = this.host.env.ports.sys;
    // As `run`: a foreground exec with a terminal and no console socket gets a new pty relayed to our stdio.
    const relay = proc.terminal && !opts.consoleSocket ? PtyRelay.listen(sys) : undefined;
    const consoleSocket = proc.terminal ? (relay?.socketPath ?? opts.consoleSocket) : undefined;
    let pid: number;
    try {
      const settled = await this.host
        .dispatch(record, { type: 'container.exec', ignorePaused: opts.ignorePaused === true }, { exec: { process: proc, consoleSocket, preserveFds: opts.preserveFds, cgroups: opts.cgroups } })
        .catch((e) =>
          Promise.reject(describeSpawnError(record.facts.id, e, sys, { capabilities: proc.capabilities, userns: hasUserNamespace((record.facts as LiveFacts).spec) })),
        );
      pid = settled.outcome.execPid!;
      await relay?.attach();
      if (opts.pidFile) writePidFile(opts.pidFile, pid);
    } catch (e) {
      relay?.close();
      throw e;
    }
    const wait = async () => {
      try {
        const status = exitStatus(await sys.waitPidAsync(pid));
        await relay?.finish();
        return status;
      } finally {
        relay?.close();
      }
    };
    return { pid, wait };
  }

  /** Freezes every process of the container (cgroup freezer). */
  async pause(id: string): Promise<void> {
    await this.host.dispatch(this.find(id, 'change'), { type: 'container.pause' });
  }

  /** Thaws a paused container. */
  async resume(id: string): Promise<void> {
    await this.host.dispatch(this.find(id, 'change'), { type: 'container.resume' });
  }

  /** Host pids of every process in the container. */
  async ps(id: string): Promise<number[]> {
    // As runc, a stopped container is not an error: it lists what is left in its cgroup (usually nothing).
    const settled = await this.live(id, 'ps', 'read', 'processes');
    return this.host.env.ports.cgroups.open(settled.facts.cgroupPath).pids();
  }

  /** cpu, memory, pids and blkio figures of the container's cgroup (the data of runc's `events --stats`). */
  async stats(id: string): Promise<CgroupStats> {
    const settled = await this.live(id, 'get stats of', 'read', 'live');
    return this.host.env.ports.cgroups.open(settled.facts.cgroupPath).stats();
  }

  /**
   * How many processes of the container the kernel's OOM killer has killed so far (`runts events` reports each new
   * one as {"type":"oom"}, as runc). Also after the container stopped, while its cgroup is there.
   */
  async oomKills(id: string): Promise<number> {
    const settled = await this.live(id, 'read OOM kills of', 'read', 'processes');
    return this.host.env.ports.cgroups.open(settled.facts.cgroupPath).oomKills();
  }

  /** Changes resource limits of a live container (applied to its cgroup at once). */
  async update(id: string, resources: LinuxResources): Promise<void> {
    await this.host.dispatch(this.find(id, 'change'), { type: 'container.update' }, { update: resources });
  }

  /**
   * Reads a file inside the container through its gofer (the broker in its mount namespace). Paths are the
   * container's; one that leaves the rootfs (`..`, a symlink pointing out) is refused.
   */
  async readFile(id: string, path: string): Promise<Buffer> {
    const { goferRead } = await import('./gofer/client.js');
    return goferRead(this.root, await this.brokerOf(id, 'read'), path);
  }

  /** Streams a file out of the container (see readFile). */
  async *readFileStream(id: string, path: string): AsyncGenerator<Buffer> {
    const { goferReadStream } = await import('./gofer/client.js');
    yield* goferReadStream(this.root, await this.brokerOf(id, 'read'), path);
  }

  /** Writes (creates or replaces) a file inside the container (see readFile). */
  async writeFile(id: string, path: string, data: GoferData, opts: { mode?: number } = {}): Promise<void> {
    const { goferWrite } = await import('./gofer/client.js');
    await goferWrite(this.root, await this.brokerOf(id, 'change'), path, data, opts);
  }

  /** Lists a directory inside the container (see readFile). */
  async listDir(id: string, path: string): Promise<GoferDirEntry[]> {
    const { goferList } = await import('./gofer/client.js');
    return goferList(this.root, await this.brokerOf(id, 'read'), path);
  }

  /** The container whose gofer serves file calls: it must not be stopped (its gofer is gone with it). */
  private async brokerOf(id: string, use: IdUse): Promise<string> {
    const settled = await this.live(id, 'reach files of', use, 'live');
    return settled.facts.id;
  }

  /** Ends the worker threads and closes the store. */
  async close(): Promise<void> {
    await this.workers.close();
    this.store.close();
  }

  /**
   * The sandbox a new container joins: CRI marks a child with container-type "container" and the sandbox's id.
   * The sandbox must exist and be alive (created or running).
   */
  private async sandboxFor(id: string, config: Spec): Promise<Settled | undefined> {
    const annotations = config.annotations ?? {};
    if (annotations[CONTAINER_TYPE] !== 'container') return undefined;
    const sandboxId = annotations[SANDBOX_ID];
    if (!sandboxId) throw new RuntimeError('bad_config', `container "${id}" is a CRI container without ${SANDBOX_ID}: add the annotation`);
    const record = this.store.get(sandboxId);
    if (!record) throw new RuntimeError('not_found', `sandbox "${sandboxId}" of container "${id}" does not exist: create the sandbox first`);
    const settled = await this.host.refresh(record);
    if (!canHostChildren(settled.status)) throw sandboxRefusal(sandboxId, id, settled.status);
    return settled;
  }

  /**
   * Re-applies the sandbox's OOM scores (see src/linux/oom-score.ts) through its rebalancer actor, which
   * serialises requests. Skipped where no score is involved, so plain containers never start the worker.
   */
  private async rebalanceOom(facts: LiveFacts, destroyed: boolean): Promise<void> {
    const inSandbox = facts.sandboxId !== facts.id || facts.annotations?.[CONTAINER_TYPE] === 'sandbox';
    if (!inSandbox && facts.spec.process?.oomScoreAdj === undefined) return;
    try {
      await this.workers.actor<OomRebalancer>('oom-rebalancer', facts.sandboxId).rebalance({ root: this.root, sandboxId: facts.sandboxId, destroyed });
    } catch (e) {
      this.log.warn({ id: facts.id, sandbox: facts.sandboxId, err: (e as Error).message }, 'OOM score rebalance failed');
    }
  }

  /** Reconciles and checks the chart lets the query `what` (see canQuery) look at the container now. */
  private async live(id: string, op: string, use: IdUse, what: 'processes' | 'live'): Promise<Settled> {
    const settled = await this.host.refresh(this.find(id, use));
    if (!canQuery(settled.status, what)) throw refusalError(settled.facts.id, settled.status, op);
    return settled;
  }

  /** The record of the container `id` names: abbreviated IDs only for reading (the rule: `IdUse` in src/oci/id.ts). */
  private find(id: string, use: IdUse): ContainerRecord {
    const record = this.store.get(resolveContainerId(this.store, id, use));
    // Deleted between the two reads.
    if (!record) throw new RuntimeError('not_found', `container "${id}" does not exist`);
    return record;
  }

  /**
   * The transition log of a container, oldest first: every move of its statechart (id, seq, from, to, event,
   * time, the pid of the runts process that made it, and exitStatus for `observed.exited`). Kept after delete
   * (bounded), so a deleted container's log can still be read by its exact id.
   * @example for (const t of await rt.history('web')) console.log(t.seq, t.from, '->', t.to, t.event);
   */
  async history(id: string): Promise<TransitionRecord[]> {
    let full = id;
    try {
      full = resolveContainerId(this.store, id, 'read');
    } catch (e) {
      if ((e as RuntsError).code !== 'not_found') throw e; // invalid, or ambiguous
    }
    const log = this.store.history(full);
    if (log.length === 0) throw new RuntimeError('not_found', `container "${id}" has no history: check the ID with runts list`);
    return log;
  }

  /**
   * Drops the transition log of deleted container `id` (exact), or with no id those of every deleted container.
   * The logs of existing containers are kept. Returns the ids purged. (The logs of the DELETED_HISTORY_LIMIT most
   * recent deletions are kept anyway; older ones go as containers are deleted.)
   * @example await rt.purgeHistory(); // every deleted container's log
   */
  async purgeHistory(id?: string): Promise<string[]> {
    if (id === undefined) return this.store.purgeDeletedHistories();
    validateId(id);
    if (this.store.get(id, { withSpec: false })) {
      throw stateError(`container "${id}" exists: its history is kept until it is deleted`);
    }
    if (this.store.history(id).length === 0) throw new RuntimeError('not_found', `container "${id}" has no history: give the exact ID of a deleted container`);
    this.store.purgeHistory(id);
    return [id];
  }

  /**
   * Rebuilds the damaged state store of `root` from the containers' state directories (`runts repair`, see
   * src/actors/repair.ts); undefined when it is not damaged (nothing changed). Needs no Runtime: one cannot be
   * opened on a damaged store.
   * @example const report = Runtime.repair('/run/runts');
   */
  static async repair(root = DEFAULT_ROOT): Promise<RepairReport | undefined> {
    const { repair } = await import('./actors/repair.js');
    return repair(root, nativePort());
  }

  /**
   * Every transition (and each exit) of this root's containers from now on, as they are committed — by this
   * process or any other (a CLI `pause`, a supervisor recording an exit). Ends when `signal` aborts or the loop
   * breaks. `since` resumes after an event's `cursor`.
   * @example
   * for await (const ev of rt.events({ id: 'web' })) {
   *   if (ev.type === 'exit') console.log('exited with', ev.exitStatus);
   *   if (ev.type === 'transition' && ev.to === 'stopped.deleted') break;
   * }
   */
  events(opts: EventsOptions = {}): AsyncIterable<RuntimeEvent> {
    return followFeed(this.store, opts);
  }

  /**
   * Makes this process the resident host of the root (what `runts supervise` runs): a child subreaper that is the
   * parent of the containers it creates, records their exit statuses the moment they exit, serves the control
   * socket `<root>/supervisor.sock` that CLI commands forward to, and with `listen` the visualizer. Close the
   * returned handle before `close()`. One resident per root.
   * @example
   * const rt = await Runtime.open({ root: '/run/runts' });
   * const resident = await rt.serve({ listen: '127.0.0.1:7433' });
   * // ... later
   * await resident.close();
   * await rt.close();
   */
  async serve(opts: ServeOptions = {}): Promise<Resident> {
    const { Resident } = await import('./supervisor/supervisor.js');
    return Resident.start(this, { store: this.store, host: this.host }, opts);
  }
}

/** The shell's convention: the exit code, or 128 + the signal that killed it. */
function exitStatus(w: { exitCode: number | null; signal: number | null }): number {
  return w.exitCode ?? 128 + (w.signal ?? 0);
}

/** An exec'd process as runc builds it: the container's process settings, overridden by the exec's flags. */
function execProcessFrom(base: Process, o: ExecOptions): Process {
  const addCaps = (set: string[] | undefined) => (o.caps?.length ? [...new Set([...(set ?? []), ...o.caps])] : set);
  const caps = base.capabilities ?? {};
  return {
    ...base,
    terminal: o.tty === true,
    args: o.args ?? [],
    env: [...(base.env ?? []), ...(o.env ?? [])],
    cwd: o.cwd ?? base.cwd ?? '/',
    user: {
      ...(o.user ? { ...base.user, uid: o.user.uid, gid: o.user.gid, additionalGids: undefined } : (base.user ?? { uid: 0, gid: 0 })),
      ...(o.additionalGids?.length ? { additionalGids: o.additionalGids } : {}),
    },
    capabilities: {
      bounding: addCaps(caps.bounding),
      effective: addCaps(caps.effective),
      permitted: addCaps(caps.permitted),
      inheritable: caps.inheritable,
      ambient: addCaps(caps.ambient),
    },
    noNewPrivileges: o.noNewPrivs === true || base.noNewPrivileges === true,
  };
}

/** The sandbox namespaces a child shares: network, ipc and uts always; pid when the child asks for no pid namespace of its own. */
/** The container's processes are in a user namespace (its own or a joined one). */
function hasUserNamespace(spec: Spec): boolean {
  return (spec.linux?.namespaces ?? []).some((n) => n.type === 'user');
}

function joinSandbox(config: Spec, sandboxPid: number): Spec {
  const FILES: Record<string, string> = { network: 'net', ipc: 'ipc', uts: 'uts', pid: 'pid', user: 'user' };
  const own = config.linux?.namespaces ?? [];
  const shared = ['network', 'ipc', 'uts', ...(own.some((n) => n.type === 'pid') ? [] : ['pid'])];
  const namespaces = [
    ...own.filter((n) => !shared.includes(n.type)),
    ...shared.map((type) => ({ type, path: `/proc/${sandboxPid}/ns/${FILES[type]}` })),
  ] as LinuxNamespace[];
  // The sandbox's uts namespace carries its hostname; setting another would rename the whole pod.
  const { hostname: _hostname, ...rest } = config;
  return { ...rest, linux: { ...config.linux, namespaces } };
}

function stateOf(s: Settled): ContainerState {
  const f = s.facts;
  return {
    // The bundle's, as runc reports it (kept in the facts too, for listings read without specs).
    ociVersion: f.ociVersion ?? f.spec?.ociVersion ?? '1.2.0',
    id: f.id,
    pid: pidFor(s.status, f.initPid),
    status: s.status,
    bundle: f.bundle,
    rootfs: f.rootfs,
    created: f.created,
    owner: f.owner,
    ...(Object.keys(f.annotations ?? {}).length ? { annotations: f.annotations } : {}),
    sandbox: f.sandboxId,
  };
}

/** Atomic: containerd watches for the file, so it must never see it half-written. */
function writePidFile(path: string, pid: number): void {
  const tmp = join(dirname(path), `.${process.pid}.pid.tmp`);
  writeFileSync(tmp, String(pid), { mode: 0o644 });
  renameSync(tmp, path);
}
