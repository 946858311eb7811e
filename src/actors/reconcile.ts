import { isProcessAlive, liveProcStat, PF_FORKNOEXEC, type ProcReader } from '../linux/proc.js';
import type { ContainerEvent, ContainerStatus } from '../machines/container.js';
import type { ContainerFacts } from '../persistence/store.js';

/** Kernel facts a reconcile looks at; a port so unit tests can state them. */
export interface Observer {
  isAlive(pid: number, startTime: number | null): boolean;
  /**
   * The container's init: gone (or its pid now names another process), still runts' own code waiting on the start
   * fifo, or started (it exec'd the user program).
   */
  initState(pid: number, startTime: number | null): 'gone' | 'waiting' | 'started';
  /** Freezer state of the container's cgroup, or null when it has no cgroup any more. */
  freezerState(cgroupPath: string): 'FROZEN' | 'THAWED' | 'FREEZING' | null;
}

/**
 * Turns what the kernel says into events for the chart, so the chart never contradicts it: a dead init (or its
 * PID now naming another process) means stopped; a creator that died mid-create means the create was abandoned;
 * a cgroup frozen or thawed behind our back means paused or running. `ignoreGofer`: do not look at the gofer (its exit
 * is already recorded, or the caller only wants the status).
 */
export function observe(facts: ContainerFacts, status: ContainerStatus, observer: Observer, ignoreGofer = false): ContainerEvent[] {
  const events = observeInit(facts, status, observer);
  // A gofer that died unexpectedly: the container keeps running, its file broker is gone (recorded once).
  const goferPid = facts.goferPid;
  if (!ignoreGofer && goferPid > 0 && status !== 'stopped' && !events.some((e) => e.type === 'observed.exited')) {
    if (!observer.isAlive(goferPid, (facts.goferStartTime as number | null | undefined) ?? null)) events.unshift({ type: 'gofer.exited', exitStatus: null });
  }
  return events;
}

function observeInit(facts: ContainerFacts, status: ContainerStatus, observer: Observer): ContainerEvent[] {
  switch (status) {
    case 'creating':
      return observer.isAlive(facts.creatorPid, facts.creatorStartTime) ? [] : [{ type: 'observed.abandoned' }];
    case 'created':
    case 'running':
    case 'paused': {
      const init = observer.initState(facts.initPid, facts.initStartTime);
      if (init === 'gone') return [{ type: 'observed.exited', exitStatus: null }];
      if (status === 'created' && init === 'waiting') return [];
      const freezer = observer.freezerState(facts.cgroupPath);
      // Started behind our back, and frozen too (a record `runts repair` rebuilt, which starts at created): both.
      if (status === 'created') return freezer === 'FROZEN' ? [{ type: 'observed.started' }, { type: 'observed.frozen' }] : [{ type: 'observed.started' }];
      if (status === 'running' && freezer === 'FROZEN') return [{ type: 'observed.frozen' }];
      if (status === 'paused' && freezer === 'THAWED') return [{ type: 'observed.thawed' }];
      return [];
    }
    default:
      return [];
  }
}

export const kernelObserver = (sys: ProcReader, freezerState: Observer['freezerState']): Observer => ({
  isAlive: (pid, startTime) => isProcessAlive(sys, pid, startTime),
  // Until it execs the user program, the init is the clone runts made and carries PF_FORKNOEXEC, which execve
  // clears: exact (no name to imitate), and read from the same /proc/<pid>/stat as its liveness — one read per
  // container in a `list`, where a stat of /proc/<pid>/exe cost as much again.
  initState: (pid, startTime) => {
    const stat = liveProcStat(sys, pid, startTime);
    if (!stat) return 'gone';
    return (stat.flags & PF_FORKNOEXEC) !== 0 ? 'waiting' : 'started';
  },
  freezerState,
});
