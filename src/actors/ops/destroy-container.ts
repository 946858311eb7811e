import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { RuntsError } from '../../errors.js';
import { isProcessAlive } from '../../linux/proc.js';
import type { ContainerEnv, LiveContainer } from '../ports.js';
import { containerDir } from '../paths.js';
import { hookState } from './oci-state.js';

export class DestroyError extends RuntsError {}

/** How long delete waits for the container's processes to die after SIGKILL before it reports them. */
export const STOP_DEADLINE_MS = 5000;

/**
 * Stops every process of the container and frees what it holds (cgroup, state dir). Idempotent, and keeps going
 * after an error so that one stuck piece does not leak the rest; the errors are reported together at the end.
 */
export async function teardown(c: LiveContainer, env: ContainerEnv): Promise<void> {
  const { facts } = c;
  const { sys, cgroups } = env.ports;
  const errors: string[] = [];
  const attempt = async (what: string, fn: () => unknown) => {
    try {
      await fn();
    } catch (e) {
      errors.push(`${what}: ${(e as Error).message}`);
    }
  };

  if (facts.initPid > 0 && isProcessAlive(facts.initPid, facts.initStartTime)) {
    await attempt('killing the init', () => killAndWait(c, env));
  }
  if (!facts.cgroupShared) {
    const cgroup = cgroups.open(facts.cgroupPath);
    if (cgroup.exists()) {
      await attempt('killing the rest of the cgroup', async () => {
        // Frozen processes cannot die: thaw first (a no-op when not frozen).
        if (cgroup.freezerState() !== 'THAWED') cgroup.thaw();
        const deadline = Date.now() + STOP_DEADLINE_MS;
        for (let pids = cgroup.pids(); pids.length > 0; pids = cgroup.pids()) {
          if (Date.now() > deadline) throw new Error(`processes ${pids.join(', ')} did not die`);
          for (const pid of pids) killQuietly(pid);
          await sleep(5);
        }
      });
      await attempt(`removing cgroup ${facts.cgroupPath}`, () => cgroup.destroy());
    }
  }
  await attempt('removing the state directory', () => rmSync(containerDir(env.root, facts.id), { recursive: true, force: true }));
  if (errors.length > 0) throw new DestroyError('sys', `destroying container "${facts.id}": ${errors.join('; ')}`);
}

/** Full delete: teardown, then poststop hooks (best effort: a failure is a warning, per OCI). */
export async function destroyContainer(c: LiveContainer, env: ContainerEnv): Promise<void> {
  await teardown(c, env);
  await env.ports.hooks.runBestEffort('poststop', c.facts.spec.hooks?.poststop, hookState(c, 'stopped'), (msg) =>
    env.log.warn({ id: c.facts.id }, msg),
  );
}

/** SIGKILL through a pidfd and wait exactly (poll on the pidfd) for the exit. */
async function killAndWait(c: LiveContainer, env: ContainerEnv): Promise<void> {
  const { facts } = c;
  const { sys } = env.ports;
  let pidfd: number;
  try {
    pidfd = sys.pidfdOpen(facts.initPid);
  } catch {
    return; // already gone
  }
  try {
    if (!isProcessAlive(facts.initPid, facts.initStartTime)) return;
    sys.pidfdSendSignal(pidfd, 9);
    const exited = await sys.pidfdWaitAsync(pidfd, STOP_DEADLINE_MS);
    if (!exited) throw new Error(`init ${facts.initPid} still alive ${STOP_DEADLINE_MS} ms after SIGKILL`);
  } finally {
    sys.closeFd(pidfd);
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}
