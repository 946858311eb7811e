import { rmSync } from 'node:fs';
import { RuntsError } from '../../errors.js';
import { isProcessAlive } from '../../linux/proc.js';
import type { ContainerEnv, LiveFacts } from '../ports.js';
import { containerDir } from '../paths.js';
import { hookState } from './oci-state.js';
import { crashPoint } from '../../debug/crash.js';
import { killGofer } from '../../gofer/lifecycle.js';

export class DestroyError extends RuntsError {}

const SIGTERM = 15;
const SIGKILL = 9;

export interface TeardownOptions {
  /** Ask the processes to stop (SIGTERM) and give them the stop deadline before SIGKILL (delete --force). */
  graceful?: boolean;
}

/**
 * Stops every process of the container and frees what it holds (cgroup, state dir). Idempotent, and keeps going
 * after an error so that one stuck piece does not leak the rest; the errors are reported together at the end.
 */
export async function teardown(facts: Readonly<LiveFacts>, env: ContainerEnv, opts: TeardownOptions = {}): Promise<void> {
  const errors: string[] = [];
  const attempt = async (what: string, fn: () => unknown) => {
    try {
      await fn();
    } catch (e) {
      errors.push(`${what}: ${(e as Error).message}`);
    }
  };
  const cgroup = facts.cgroupShared ? undefined : env.ports.cgroups.open(facts.cgroupPath, facts.cgroupRelativeTo);
  const hasCgroup = cgroup?.exists() ?? false;
  // The gofer first: it lives outside the container's cgroup, so the sweep below does not reach it, and with the root
  // given it is found through its socket even when its pid was never recorded (runts killed mid-create). Its SIGKILL
  // goes out now and everything else is done while it exits — its exit drops the container's mount namespace, the
  // slowest step of a delete; only its exit (and reaping) is waited for last.
  // killGofer records a gofer it finds through the socket in what it is given: a copy, not the facts.
  const gofer = { id: facts.id, goferPid: facts.goferPid, goferStartTime: facts.goferStartTime };
  let goferExited: () => Promise<void> = async () => undefined;
  await attempt('stopping the gofer', async () => {
    goferExited = await killGofer(gofer, env.ports.sys, { root: env.root, timeoutMs: env.stopTimeoutMs });
  });
  // Frozen processes cannot act on a signal, not even SIGKILL on cgroup v1: thaw first.
  if (hasCgroup) await attempt('thawing the cgroup', () => cgroup!.freezerState() !== 'THAWED' && cgroup!.thaw());
  await attempt('stopping the processes', () => stopProcesses(facts, env, opts.graceful === true && hasCgroup));
  crashPoint('delete.half-way');
  if (hasCgroup) await attempt(`removing cgroup ${facts.cgroupPath}`, () => cgroup!.destroy());
  // Retried (ENOTEMPTY, EBUSY): another runts process finishing a command on this container (an exec that was in
  // flight) may write a file there while the tree is removed; with the directory gone, its write fails harmlessly.
  await attempt('removing the state directory', () =>
    rmSync(containerDir(env.root, facts.id), { recursive: true, force: true, maxRetries: 5, retryDelay: 20 }),
  );
  await attempt('stopping the gofer', goferExited);
  if (errors.length > 0) throw new DestroyError('sys', `destroying container "${facts.id}": ${errors.join('; ')}`);
}

/**
 * Gracefully: SIGTERM to every process, then wait up to the stop deadline; whatever is left gets SIGKILL and is
 * reported. A pid-namespace init that does not handle SIGTERM never sees it (the kernel drops it), so it gets
 * SIGKILL at once instead of a pointless wait. Otherwise SIGKILL straight away. The wait is exact (pidfds, on a
 * worker thread).
 */
async function stopProcesses(facts: Readonly<LiveFacts>, env: ContainerEnv, graceful: boolean): Promise<void> {
  const { sys, cgroups, stopWaiter } = env.ports;
  const cgroupPath = facts.cgroupShared ? undefined : facts.cgroupPath;
  const init = facts.initPid > 0 && isProcessAlive(sys, facts.initPid, facts.initStartTime) ? [{ pid: facts.initPid, startTime: facts.initStartTime }] : [];
  const { cgroupRelativeTo } = facts;
  const members = () => (cgroupPath && cgroups.open(cgroupPath, cgroupRelativeTo).exists() ? cgroups.open(cgroupPath, cgroupRelativeTo).pids() : []);
  if (init.length === 0 && members().length === 0) return;

  if (graceful) {
    for (const pid of members()) signalQuietly(sys, pid, SIGTERM);
    if (init.length && isNamespaceInit(facts) && !catchesSignal(sys, facts.initPid, SIGTERM)) signalQuietly(sys, facts.initPid, SIGKILL);
    const first = await stopWaiter.wait({ processes: init, cgroupPath, cgroupRelativeTo, deadlineMs: env.stopTimeoutMs });
    if (first.stopped) return;
    env.log.warn({ id: facts.id, pids: first.remaining }, `stop deadline of ${env.stopTimeoutMs} ms passed: sending SIGKILL to ${first.remaining.join(', ')}`);
  }
  const t0 = process.hrtime.bigint();
  for (const pid of [...init.map((p) => p.pid), ...members()]) signalQuietly(sys, pid, SIGKILL);
  const done = await stopWaiter.wait({ processes: init, cgroupPath, cgroupRelativeTo, deadlineMs: env.stopTimeoutMs });
  const latencyMs = Number(process.hrtime.bigint() - t0) / 1e6;
  env.log.debug({ id: facts.id, latencyMs, detection: done.detection }, 'processes stopped after SIGKILL');
  if (!done.stopped) throw new Error(`processes ${done.remaining.join(', ')} still alive ${env.stopTimeoutMs} ms after SIGKILL`);
}

/** Full delete: teardown, then poststop hooks (best effort: a failure is a warning, per OCI). */
export async function destroyContainer(facts: Readonly<LiveFacts>, env: ContainerEnv, opts: TeardownOptions = {}): Promise<void> {
  await teardown(facts, env, opts);
  crashPoint('delete.before-record-removal');
  await env.ports.hooks.runBestEffort('poststop', facts.spec.hooks?.poststop, hookState(facts, 'stopped'), (msg) =>
    env.log.warn({ id: facts.id }, msg),
  );
}

function isNamespaceInit(facts: Readonly<LiveFacts>): boolean {
  return (facts.spec.linux?.namespaces ?? []).some((n) => n.type === 'pid' && !n.path);
}

/** Whether a process has a handler for `signal` (SigCgt in /proc/<pid>/status). */
function catchesSignal(sys: ContainerEnv['ports']['sys'], pid: number, signal: number): boolean {
  const caught = sys.caughtSignals(pid);
  return caught !== null && ((caught >> BigInt(signal - 1)) & 1n) === 1n;
}

function signalQuietly(sys: ContainerEnv['ports']['sys'], pid: number, signal: number): void {
  try {
    sys.kill(pid, signal);
  } catch {
    // not ours to signal: the wait after it reports what is left
  }
}
