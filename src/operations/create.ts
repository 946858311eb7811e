/**
 * `create`: load the bundle, build the container's facts, insert its record (the chart in `creating`) and dispatch
 * `container.create`; the pid file is written last, as containerd waits for it.
 */
import { userInfo } from 'node:os';
import { UnrecordedError, type Settled } from '../actors/host.js';
import type { LiveFacts } from '../actors/ports.js';
import { describeSpawnError } from '../actors/spawn-errors.js';
import { crashPoint } from '../debug/crash.js';
import { CONTAINER_TYPE, SANDBOX_ID } from '../linux/oom-score.js';
import { canHostChildren, sandboxRefusal } from '../machines/container.js';
import type { SyscallPort } from '../native/port.js';
import { loadBundle, type Bundle } from '../oci/config.js';
import { validateId } from '../oci/id.js';
import type { LinuxNamespace, Spec } from '../oci/types.js';
import { hasUserNamespace, rebalanceOom, RuntimeError, stateOf, writePidFile, type OperationContext } from './context.js';
import { deleteContainer } from './delete.js';
import type { ContainerState, CreateOptions } from './types.js';

/** Creates a container whose init waits, blocked, until `start`; `loaded`: the bundle when the caller read it already. */
export async function createContainer(ctx: OperationContext, id: string, opts: CreateOptions, loaded?: Bundle): Promise<ContainerState> {
  validateId(id);
  const { host, store } = ctx;
  const { bundle, config, rootfs } = loaded ?? loadBundle(opts.bundle ?? process.cwd());
  if (config.process?.terminal && !opts.consoleSocket) {
    throw new RuntimeError('bad_config', 'process.terminal is true but no --console-socket was given: pass one, or set terminal to false');
  }
  const sandbox = await sandboxFor(ctx, id, config);
  const spec = sandbox ? joinSandbox(config, sandbox.facts.initPid) : config;
  const { cgroups } = host.env.ports;
  const inSandbox = sandbox !== undefined && !config.linux?.cgroupsPath;
  // Children get a cgroup under their sandbox's.
  const cgroupPath = inSandbox ? `${sandbox.facts.cgroupPath}/${id}` : cgroups.resolvePath(config.linux?.cgroupsPath, id);
  // A relative path hangs from the creator's cgroup: the caller's (the front's, for a warm host), as runc's own.
  const cgroupRelativeTo = cgroupPath.startsWith('/') ? undefined : inSandbox ? sandbox.facts.cgroupRelativeTo : cgroups.cgroupsOf(ctx.caller?.pid);
  const facts: LiveFacts = {
    id,
    bundle,
    rootfs,
    sandboxId: sandbox?.facts.id ?? id,
    initPid: 0,
    initStartTime: null,
    goferPid: 0,
    cgroupPath,
    ...(cgroupRelativeTo ? { cgroupRelativeTo } : {}),
    created: new Date().toISOString(),
    ociVersion: config.ociVersion,
    owner: ownerName(),
    annotations: config.annotations ?? {},
    // The init's parent: this process, or the front that spawns it for a warm host.
    creatorPid: ctx.caller?.pid ?? process.pid,
    creatorStartTime: ctx.caller ? ctx.caller.startTime : ownStartTime(host.env.ports.sys),
    spec,
    ...(opts.consoleSocket ? { consoleSocket: opts.consoleSocket } : {}),
    ...(opts.preserveFds ? { preserveFds: opts.preserveFds } : {}),
    ...(opts.attached ? { attached: true } : {}),
  };
  const record = host.insert(facts);
  crashPoint('create.after-insert');
  let settled: Settled;
  try {
    settled = await host.dispatch(record, { type: 'container.create' });
  } catch (e) {
    // A failed create effect undid what it made. One that worked but could not be recorded (the store failed
    // under it) left a container nobody knows of: tear it down here. Then drop the record, so nothing is left.
    if (e instanceof UnrecordedError) {
      const { teardown } = await import('../actors/effects/destroy-container.js');
      await teardown(e.facts, host.env).catch((err) => ctx.log.warn({ id, err: (err as Error).message }, 'undoing an unrecorded create'));
    }
    try {
      store.remove(id);
    } catch {
      // already gone (e.g. the very record whose loss made the write fail)
    }
    throw describeSpawnError(id, e, host.env.ports.sys, { capabilities: spec.process?.capabilities, userns: hasUserNamespace(spec) });
  }
  crashPoint('create.before-pidfile');
  if (opts.pidFile) {
    try {
      writePidFile(opts.pidFile, settled.facts.initPid);
    } catch (e) {
      await deleteContainer(ctx, id, { force: true }).catch(() => undefined);
      throw new RuntimeError('sys', `writing pid file ${opts.pidFile}: ${(e as Error).message}`, { cause: e });
    }
  }
  await rebalanceOom(ctx, settled.facts, false);
  return stateOf(settled);
}

/**
 * The sandbox a new container joins: CRI marks a child with container-type "container" and the sandbox's id. The
 * chart says whether the sandbox may take a child now (canHostChildren).
 */
async function sandboxFor(ctx: OperationContext, id: string, config: Spec): Promise<Settled | undefined> {
  const annotations = config.annotations ?? {};
  if (annotations[CONTAINER_TYPE] !== 'container') return undefined;
  const sandboxId = annotations[SANDBOX_ID];
  if (!sandboxId) throw new RuntimeError('bad_config', `container "${id}" is a CRI container without ${SANDBOX_ID}: add the annotation`);
  const record = ctx.store.get(sandboxId);
  if (!record) throw new RuntimeError('not_found', `sandbox "${sandboxId}" of container "${id}" does not exist: create the sandbox first`);
  const settled = await ctx.host.refresh(record);
  if (!canHostChildren(settled.status)) throw sandboxRefusal(sandboxId, id, settled.status);
  return settled;
}

/** The sandbox namespaces a child shares: network, ipc and uts always; pid when the child asks for no pid namespace of its own. */
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

/** This process's user name (os.userInfo reads the passwd database: once per user, not per create). */
function ownerName(): string {
  const uid = process.geteuid?.() ?? -1;
  if (owner?.uid !== uid) owner = { uid, name: userInfo().username };
  return owner.name;
}
let owner: { uid: number; name: string } | undefined;

const ownStart = new WeakMap<SyscallPort, number | null>();
/** This process's start time (recorded as each container's creator's): read once per port, it never changes. */
function ownStartTime(sys: SyscallPort): number | null {
  if (!ownStart.has(sys)) ownStart.set(sys, sys.procStat(process.pid)?.startTime ?? null);
  return ownStart.get(sys)!;
}
