import { SignalError } from '../../errors.js';
import { stateError } from '../../machines/container.js';
import { isProcessAlive } from '../../linux/proc.js';
import type { ContainerEnv, LiveFacts } from '../ports.js';
import { crashPoint } from '../../debug/crash.js';
import { containerPids } from '../container-cgroup.js';

export { SignalError };

/**
 * Sends a signal to the init (through a pidfd, so a reused PID can never get it) or, with `all`, to every process
 * in the container's cgroup.
 */
export function signalContainer(facts: Readonly<LiveFacts>, env: ContainerEnv, signal: number, all: boolean): void {
  const { sys } = env.ports;
  if (all) {
    // A member gone since the listing is fine (kill returns false).
    for (const pid of containerPids(env.ports, facts)) sys.kill(pid, signal);
    return;
  }
  signalInit(facts, env, signal);
}

/** Signals the init through a pidfd opened and then checked against the recorded start time (no PID-reuse race). */
export function signalInit(facts: Readonly<LiveFacts>, env: ContainerEnv, signal: number): void {
  const { sys } = env.ports;
  let pidfd: number;
  try {
    pidfd = sys.pidfdOpen(facts.initPid);
  } catch (e) {
    throw stateError(`container "${facts.id}" has no running init process`, { cause: e });
  }
  try {
    if (!isProcessAlive(sys, facts.initPid, facts.initStartTime)) {
      throw stateError(`container "${facts.id}" has no running init process`);
    }
    sys.pidfdSendSignal(pidfd, signal);
    crashPoint('kill.after-signal');
  } finally {
    sys.closeFd(pidfd);
  }
}
