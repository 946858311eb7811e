/**
 * `exec`: start another process in a created or running container (joining its namespaces and cgroup), built from
 * the container's process and the exec's flags as runc builds it.
 */
import type { LiveFacts } from '../actors/ports.js';
import { describeSpawnError } from '../actors/spawn-errors.js';
import { PtyRelay } from '../linux/pty-relay.js';
import type { Process } from '../oci/types.js';
import { exitStatus } from '../linux/proc.js';
import { findRecord, hasUserNamespace, RuntimeError, writePidFile, type OperationContext } from './context.js';
import type { ExecHandle, ExecOptions } from './types.js';

export async function execInContainer(ctx: OperationContext, id: string, opts: ExecOptions): Promise<ExecHandle> {
  const record = findRecord(ctx, id, 'change');
  const { spec } = record.facts as LiveFacts;
  const base: Process = spec.process ?? { args: [], cwd: '/', user: { uid: 0, gid: 0 } };
  const asked = opts.process ?? execProcessFrom(base, opts);
  const { execCapabilities } = await import('../linux/plan-exec.js');
  // No capabilities asked for: the container's; more than its bounding set: refused (see execCapabilities).
  const proc: Process = { ...asked, capabilities: execCapabilities(record.facts.id, asked.capabilities, base.capabilities) };
  if (proc.terminal && !opts.consoleSocket && opts.detach) {
    throw new RuntimeError('bad_config', 'a detached exec with a terminal needs --console-socket: pass one, or drop --tty');
  }
  const sys = ctx.host.env.ports.sys;
  // As `run`: a foreground exec with a terminal and no console socket gets a new pty relayed to our stdio.
  const relay = proc.terminal && !opts.consoleSocket ? PtyRelay.listen(sys) : undefined;
  const consoleSocket = proc.terminal ? (relay?.socketPath ?? opts.consoleSocket) : undefined;
  let pid: number;
  try {
    const request = { exec: { process: proc, consoleSocket, preserveFds: opts.preserveFds, cgroups: opts.cgroups } };
    const settled = await ctx.host
      .dispatch(record, { type: 'container.exec', ignorePaused: opts.ignorePaused === true }, request)
      .catch((e) => Promise.reject(describeSpawnError(record.facts.id, e, sys, { capabilities: proc.capabilities, userns: hasUserNamespace(spec) })));
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
