import { planExec } from '../../linux/plan-exec.js';
import { compileSeccomp } from '../../linux/seccomp.js';
import type { Process } from '../../oci/types.js';
import type { SubCgroups } from '../../linux/cgroups/index.js';
import type { ContainerEnv, LiveContainer } from '../ports.js';

/** What `exec` asks for: the process (already merged with the container's defaults) and how to attach it. */
export interface ExecRequest {
  process: Process;
  consoleSocket?: string;
  preserveFds?: number;
  /** Sub-cgroups of the container's to start in (`exec --cgroup`). */
  cgroups?: SubCgroups;
}

/**
 * Starts a process inside a running container: it joins the container's cgroup and every namespace of its init,
 * and gets the requested user, capabilities and no_new_privs. Returns its host pid; the process is a child of
 * this runts process (so a foreground exec can wait for it).
 */
export async function execProcess(c: LiveContainer, env: ContainerEnv, request: ExecRequest): Promise<number> {
  const { facts } = c;
  const { sys, cgroups } = env.ports;
  // exec'd processes get the container's profile too, as with runc.
  const seccomp = facts.spec.linux?.seccomp;
  const plan = planExec({
    initPid: facts.initPid,
    namespaces: facts.spec.linux?.namespaces ?? [],
    cgroupProcsFiles: cgroups.open(facts.cgroupPath).procsFiles(request.cgroups),
    process: request.process,
    rootfs: facts.rootfs,
    consoleSocket: request.consoleSocket,
    preserveFds: request.preserveFds,
    seccomp: seccomp ? compileSeccomp(seccomp, sys) : undefined,
  });
  const { pid, pidfd } = await sys.spawn(plan);
  if (pidfd >= 0) sys.closeFd(pidfd);
  env.log.debug({ id: facts.id, pid, args: request.process.args }, 'exec process started');
  return pid;
}
