import { planExec } from '../../linux/plan-exec.js';
import { compileSeccomp, hasNotifyRules, sendToSeccompAgent } from '../../linux/seccomp.js';
import { hookState } from './oci-state.js';
import type { Process } from '../../oci/types.js';
import type { SubCgroups } from '../../linux/cgroups/index.js';
import type { ContainerEnv, LiveFacts } from '../ports.js';
import { joinProcsFiles } from '../container-cgroup.js';

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
export async function execProcess(facts: Readonly<LiveFacts>, env: ContainerEnv, request: ExecRequest): Promise<number> {
  const { sys, cgroups } = env.ports;
  // exec'd processes get the container's profile too, as with runc.
  const seccomp = facts.spec.linux?.seccomp;
  const plan = planExec({
    initPid: facts.initPid,
    namespaces: facts.spec.linux?.namespaces ?? [],
    cgroupProcsFiles: joinProcsFiles(cgroups, facts, request.cgroups, (w) => env.log.warn({ id: facts.id }, w)),
    process: request.process,
    rootfs: facts.rootfs,
    consoleSocket: request.consoleSocket,
    preserveFds: request.preserveFds,
    seccomp: seccomp ? compileSeccomp(seccomp, sys) : undefined,
    seccompListener: hasNotifyRules(seccomp),
  });
  const { pid, pidfd, seccompFd } = await sys.spawn(plan);
  if (pidfd >= 0) sys.closeFd(pidfd);
  // As runc: each exec'd process has its own listener, handed to the agent with that process's pid.
  if (seccompFd >= 0) {
    try {
      sendToSeccompAgent(seccomp!, seccompFd, pid, hookState(facts, 'running'), sys);
    } catch (e) {
      // No agent, no exec: its notifying syscalls would fail with ENOSYS, not what the profile asked for.
      sys.kill(pid, 9);
      throw e;
    }
  }
  env.log.debug({ id: facts.id, pid, args: request.process.args }, 'exec process started');
  return pid;
}
