import { readFileSync } from 'node:fs';
import { CAPABILITIES, CLONE, PlanBuilder } from '../native/plan.js';
import type { LinuxCapabilities, LinuxNamespace, Process } from '../oci/types.js';
import { PlanError, planProcessSetup, PR_SET_DUMPABLE } from './plan-init.js';

const CAP_SETS = ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const;

/**
 * The capabilities an exec'd process gets: the ones it asks for, or the container's own when it asks for none (as
 * runc: a process.json without `capabilities` runs with the container's sets, not with runts' own).
 *
 * An exec never exceeds the container's bounding set. runc grants whatever the exec asks for — `exec --cap`, or the
 * full sets Docker, Podman and nerdctl send for `exec --privileged` — since it spawns the process as host root.
 * Here asking for more is refused, with the capabilities named, rather than silently trimmed: those callers want
 * the capabilities, and a process that lacks them fails later with a bare EPERM.
 * @throws PlanError bad_config naming the capabilities outside the container's bounding set.
 */
export function execCapabilities(
  id: string,
  requested: LinuxCapabilities | undefined,
  container: LinuxCapabilities | undefined,
): LinuxCapabilities {
  const caps = requested ?? container ?? {};
  for (const set of CAP_SETS) {
    const unknown = (caps[set] ?? []).find((c) => !Object.hasOwn(CAPABILITIES, c));
    if (unknown !== undefined) throw new PlanError('bad_config', `unknown capability "${unknown}": use names like CAP_CHOWN`);
  }
  const allowed = new Set(container?.bounding ?? []);
  const beyond = new Set(CAP_SETS.flatMap((set) => (caps[set] ?? []).filter((c) => !allowed.has(c))));
  if (beyond.size > 0) {
    const names = [...beyond].sort();
    const shown = names.length > 4 ? `${names.slice(0, 4).join(', ')} and ${names.length - 4} more` : names.join(', ');
    throw new PlanError(
      'bad_config',
      `exec in container "${id}" asks for ${shown}, outside the container's bounding set: ` +
        'drop them (--cap, process.capabilities, exec --privileged), or create the container with them',
    );
  }
  return caps;
}

export interface ExecPlanInput {
  /** Host pid of the container's init: its /proc/<pid>/ns/* are the namespaces to join. */
  initPid: number;
  /** The container's namespaces (from its config): which of them to join. */
  namespaces: LinuxNamespace[];
  cgroupProcsFiles: string[];
  process: Process;
  /** Host path of the rootfs (for HOME from its /etc/passwd). */
  rootfs: string;
  consoleSocket?: string;
  preserveFds?: number;
  /** The container's linux.seccomp, compiled (src/linux/seccomp.ts): exec'd processes are filtered like the init. */
  seccomp?: Buffer;
  /** The profile has SCMP_ACT_NOTIFY rules (see InitPlanInput.seccompListener). */
  seccompListener?: boolean;
}

/** /proc/<pid>/ns/<name> for each OCI namespace type. */
const NS_FILE: Record<string, { file: string; flag: number }> = {
  user: { file: 'user', flag: CLONE.NEWUSER },
  ipc: { file: 'ipc', flag: CLONE.NEWIPC },
  uts: { file: 'uts', flag: CLONE.NEWUTS },
  network: { file: 'net', flag: CLONE.NEWNET },
  pid: { file: 'pid', flag: CLONE.NEWPID },
  cgroup: { file: 'cgroup', flag: CLONE.NEWCGROUP },
  time: { file: 'time', flag: CLONE.NEWTIME },
  mount: { file: 'mnt', flag: CLONE.NEWNS },
};

/**
 * The plan for a process joining a running container (`exec`): its cgroup first, then every namespace of the init
 * — the user namespace first (it owns the others), the mount namespace last (after it, /proc is the container's
 * and the init's host pid no longer resolves) — then a fork so the process is inside the pid namespace, then the
 * process settings, as for the init but without the start fifo.
 */
export function planExec(input: ExecPlanInput): PlanBuilder {
  const { process } = input;
  const args = process.args ?? [];
  if (args.length === 0) throw new PlanError('bad_config', 'exec needs a command: pass arguments or process.args in --process');
  const plan = new PlanBuilder();
  // Not dumpable before joining anything: the container's processes must never open this Node copy's
  // /proc/<pid>/exe (the host's node binary) for writing, nor ptrace it, while it sets up (execve resets it).
  plan.prctl(PR_SET_DUMPABLE, 0);
  for (const file of input.cgroupProcsFiles) plan.writeFile(file, '0');
  const terminal = process.terminal === true && input.consoleSocket !== undefined;
  if (terminal) plan.consoleConnect(input.consoleSocket!);
  const types = new Set(input.namespaces.map((n) => n.type));
  for (const type of ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'time', 'mount']) {
    if (types.has(type as LinuxNamespace['type'])) plan.setns(`/proc/${input.initPid}/ns/${NS_FILE[type].file}`, NS_FILE[type].flag);
  }
  if (!types.has('mount')) {
    // A container without a mount namespace is only chrooted (see planInit): join its root the same way, or the
    // process would run in the host's.
    plan.chdir(`/proc/${input.initPid}/root`);
    plan.chroot('.');
  }
  plan.fork();
  const env = planProcessSetup(plan, process, input.rootfs, {
    terminal,
    preserveFds: input.preserveFds,
    seccomp: input.seccomp,
    seccompListener: input.seccompListener,
    setgroupsDenied: setgroupsDenied(input),
  });
  plan.checkExec(args[0], env);
  plan.ready();
  plan.exec(args[0], args, env);
  return plan;
}

/**
 * Whether the container's user namespace refuses setgroups (made without root, with only the creator's gid mapped:
 * /proc/<init>/setgroups says "deny"); the exec'd process then keeps its groups, as the init did.
 */
function setgroupsDenied(input: ExecPlanInput): boolean {
  if (!input.namespaces.some((n) => n.type === 'user')) return false;
  try {
    return readFileSync(`/proc/${input.initPid}/setgroups`, 'utf8').trim() === 'deny';
  } catch {
    return false; // the init is gone: the spawn fails on its namespaces with the clearer error
  }
}
