import { chmodSync, mkdirSync } from 'node:fs';
import { isRootless, readRootlessHost, rootlessIdMapping, rootlessProcessLimits, rootlessUserNs } from '../../linux/rootless.js';
import type { CgroupManager } from '../../linux/cgroups/index.js';
import { PlanError } from '../../errors.js';
import { planInit, planWarnings } from '../../linux/plan-init.js';
import { goferSocketPath, requireGoferBinary } from '../../gofer/paths.js';
import { recordGofer, type GoferFacts } from '../../gofer/lifecycle.js';
import { crashPoint } from '../../debug/crash.js';
import { effectiveResources } from '../../linux/device-rules.js';
import type { ContainerEnv, LiveFacts } from '../ports.js';
import { containerDir, execFifoPath } from '../paths.js';
import { hookState } from './oci-state.js';
import { teardown } from './destroy-container.js';
import { compileSeccomp, hasNotifyRules, sendToSeccompAgent } from '../../linux/seccomp.js';
import { writeFactsFile } from '../../persistence/facts-file.js';

/**
 * Makes the container up to `created`: state dir and exec fifo, the cgroup (before the init exists, so every child
 * is inside), the init (blocked on the fifo before the user program), then the create-time hooks. On any failure,
 * everything made so far is undone before the error is rethrown: bad input leaves nothing behind. Returns what it
 * recorded about them (the patch of the facts): the init's and the gofer's pid and start time, and whether the cgroup
 * was there before.
 *
 * The cgroup is made while stage 1 starts: the spawn is gated, and stage 1 waits at the gate before it opens the
 * cgroup's files (see planInit), so the cgroup's kernel work overlaps the namespaces and the gofer's start.
 */
export async function createContainer(facts: Readonly<LiveFacts>, env: ContainerEnv): Promise<Partial<LiveFacts>> {
  const { spec } = facts;
  const { sys, cgroups, hooks } = env.ports;
  const dir = containerDir(env.root, facts.id);
  const fifo = execFifoPath(env.root, facts.id);
  // Before anything is made: a profile runts cannot apply fails create with nothing to undo.
  const seccomp = spec.linux?.seccomp ? compileSeccomp(spec.linux.seccomp, sys) : undefined;
  const rootless = isRootless() ? rootlessSetup(spec) : undefined;
  const patch: Partial<LiveFacts> = rootless ? { rootless: true } : {};
  try {
    mkdirSync(dir, { mode: 0o700 });
    // Before anything else is made: a store lost from now on leaves this container findable (`runts repair`).
    writeFactsFile(env.root, { ...facts, ...patch });
    sys.mkfifo(fifo, 0o600);
    const cgroup = cgroups.open(facts.cgroupPath, facts.cgroupRelativeTo);
    // Without root the cgroup is made first, in the hierarchies the user may write: the plan joins only those.
    if (rootless) makeCgroup(facts, env, cgroup, patch, true);
    let views = cgroups.views(facts.cgroupPath, facts.cgroupRelativeTo);
    if (rootless) views = views.filter((v) => cgroup.dirs.includes(v.hostDir));
    for (const w of rootless?.warnings ?? []) env.log.warn({ id: facts.id }, w);
    const plan = planInit({
      spec: rootless?.spec ?? spec,
      rootfs: facts.rootfs,
      bundle: facts.bundle,
      cgroupProcsFiles: cgroup.procsFiles(),
      cgroupGate: true,
      cgroupViews: views,
      rootless: rootless?.idMapping,
      fifoPath: fifo,
      consoleSocket: facts.consoleSocket,
      preserveFds: facts.preserveFds,
      gofer: { binary: requireGoferBinary(), socketPath: goferSocketPath(env.root, facts.id) },
      attached: facts.attached === true,
      seccomp,
      seccompListener: hasNotifyRules(spec.linux?.seccomp),
    });
    for (const w of planWarnings(spec)) env.log.warn({ id: facts.id }, w);
    const spawn = sys.spawnGated(plan);
    try {
      if (!rootless) makeCgroup(facts, env, cgroup, patch, false);
      crashPoint('create.after-cgroup');
    } catch (e) {
      // Stage 1 ends at the gate and the spawn stops what it started; the cgroup's error is the one to report.
      spawn.cancel();
      await spawn.done.catch(() => undefined);
      throw e;
    }
    spawn.open();
    const { pid, pidfd, goferPid, seccompFd } = await spawn.done;
    if (pidfd >= 0) sys.closeFd(pidfd);
    patch.initPid = pid;
    patch.initStartTime = sys.procStat(pid)?.startTime ?? null;
    // SCMP_ACT_NOTIFY: the agent gets the init's listener before anything else happens in the container.
    const state = hookState({ ...facts, initPid: pid }, 'creating');
    if (seccompFd >= 0) sendToSeccompAgent(spec.linux!.seccomp!, seccompFd, pid, state, sys);
    // The gofer (the file broker) is recorded with its start time: stopGofer checks it is still
    // the same process before the SIGKILL at teardown.
    const gofer: GoferFacts = { id: facts.id, goferPid: 0 };
    recordGofer(gofer, goferPid, sys);
    patch.goferPid = gofer.goferPid;
    patch.goferStartTime = gofer.goferStartTime;
    // Only runts talks to the gofer: its socket is 0600 like every file under the state root.
    if (goferPid > 0) chmodSync(goferSocketPath(env.root, facts.id), 0o600);
    crashPoint('create.after-clone');
    env.log.debug({ id: facts.id, pid, goferPid }, 'init spawned and blocked until start');

    // prestart (deprecated) and createRuntime run in the runtime's namespaces, createContainer in the container's
    // mount namespace; the init is blocked, so none of them races the user program.
    await hooks.run('prestart', spec.hooks?.prestart, state);
    await hooks.run('createRuntime', spec.hooks?.createRuntime, state);
    await hooks.run('createContainer', spec.hooks?.createContainer, state, { nsenterPid: pid, nsenterUser: rootlessUserNs({ ...facts, ...patch }) });
  } catch (e) {
    await teardown({ ...facts, ...patch }, env).catch((cleanupError) =>
      env.log.warn({ id: facts.id, err: String(cleanupError) }, 'cleanup after a failed create was incomplete'),
    );
    throw e;
  }
  return patch;
}

/** A rootless create's inputs: the config within the user's limits, how the id maps are written, the warnings. */
function rootlessSetup(spec: LiveFacts['spec']) {
  const host = readRootlessHost();
  // Root of a user namespace (rootless Podman's) may run a container in that namespace; a user needs one of its own.
  if (host.euid !== 0 && !(spec.linux?.namespaces ?? []).some((n) => n.type === 'user')) {
    throw new PlanError('bad_config', 'runts runs without root, and config.json has no user namespace: add {"type":"user"} to linux.namespaces with uidMappings and gidMappings (runts spec --rootless writes one)');
  }
  const limited = rootlessProcessLimits(spec, host);
  return { spec: limited.spec, warnings: limited.warnings, idMapping: rootlessIdMapping(spec, host) };
}

/**
 * Makes the container's cgroup and records in `patch` what teardown must know. A cgroup that existed before us (a
 * caller's own) is not ours to remove at delete; when create fails it has removed the dirs it made, and what is left
 * existed before us too (e.g. a frozen cgroup it refused). `skipDenied` (without root): only the hierarchies the user
 * may write (a delegated cgroup v2 subtree); the others are skipped, as runc does, with one warning, and with none
 * left the container has no cgroup.
 */
function makeCgroup(facts: Readonly<LiveFacts>, env: ContainerEnv, cgroup: CgroupManager, patch: Partial<LiveFacts>, skipDenied: boolean): void {
  let made: ReturnType<CgroupManager['create']>;
  try {
    made = cgroup.create(effectiveResources(facts.spec.linux?.resources), { skipDenied });
  } catch (e) {
    patch.cgroupShared = true;
    throw e;
  }
  if (!made.created) patch.cgroupShared = true;
  for (const w of made.warnings) env.log.warn({ id: facts.id }, w);
  if (made.skipped.length === 0) return;
  if (cgroup.dirs.length === 0) {
    patch.noCgroup = true;
    env.log.warn(
      { id: facts.id },
      `runts runs without root and may not create the cgroup ${made.skipped[0]}${made.skipped.length > 1 ? ` (nor its ${made.skipped.length - 1} other hierarchies)` : ''}: the container runs without a cgroup of its own — linux.resources are not applied, pause, update and events --stats are refused; delegate a cgroup v2 subtree to the user and set linux.cgroupsPath inside it`,
    );
  } else {
    env.log.warn({ id: facts.id }, `runts runs without root: cgroups not delegated to the user are skipped (${made.skipped.join(', ')})`);
  }
}
