/**
 * What a kernel fact means for the chart in each status: the reconcile's rule book. Pure: the facts are read by an
 * {@link Observer} the host supplies (src/actors/reconcile.ts has the kernel's), and the events are sent to the chart
 * only where it accepts them.
 */
import type { ContainerEvent, ContainerStatus } from './container.js';

/** Kernel facts a reconcile looks at; a port so unit tests can state them. */
export interface Observer {
  isAlive(pid: number, startTime: number | null): boolean;
  /**
   * The container's init: gone (or its pid now names another process), still runts' own code waiting on the start
   * fifo, or started (it exec'd the user program).
   */
  initState(pid: number, startTime: number | null): 'gone' | 'waiting' | 'started';
  /** Freezer state of the container's cgroup, or null when it has no cgroup any more. */
  freezerState(cgroupPath: string, relativeTo?: Record<string, string>): 'FROZEN' | 'THAWED' | 'FREEZING' | null;
}

/** The recorded facts a reconcile compares with the kernel (a part of the stored ContainerFacts). */
export interface ObservedFacts {
  initPid: number;
  initStartTime: number | null;
  creatorPid: number;
  creatorStartTime: number | null;
  goferPid: number;
  goferStartTime?: number | null;
  cgroupPath: string;
  cgroupRelativeTo?: Record<string, string>;
  noCgroup?: boolean;
}

/**
 * Turns what the kernel says into events for the chart, so the chart never contradicts it: a dead init (or its
 * PID now naming another process) means stopped; a creator that died mid-create means the create was abandoned;
 * a cgroup frozen or thawed behind our back means paused or running. `ignoreGofer`: do not look at the gofer (its exit
 * is already recorded, or the caller only wants the status).
 */
export function observe(facts: ObservedFacts, status: ContainerStatus, observer: Observer, ignoreGofer = false): ContainerEvent[] {
  const events = observeInit(facts, status, observer);
  // A gofer that died unexpectedly: the container keeps running, its file broker is gone (recorded once).
  const goferPid = facts.goferPid;
  if (!ignoreGofer && goferPid > 0 && status !== 'stopped' && !events.some((e) => e.type === 'observed.exited')) {
    if (!observer.isAlive(goferPid, facts.goferStartTime ?? null)) events.unshift({ type: 'gofer.exited', exitStatus: null });
  }
  return events;
}

function observeInit(facts: ObservedFacts, status: ContainerStatus, observer: Observer): ContainerEvent[] {
  switch (status) {
    case 'creating':
      return observer.isAlive(facts.creatorPid, facts.creatorStartTime) ? [] : [{ type: 'observed.abandoned' }];
    case 'created':
    case 'running':
    case 'paused': {
      const init = observer.initState(facts.initPid, facts.initStartTime);
      if (init === 'gone') return [{ type: 'observed.exited', exitStatus: null }];
      if (status === 'created' && init === 'waiting') return [];
      // Without a cgroup of its own (made without root), nothing can freeze it: its cgroup path is only a name.
      const freezer = facts.noCgroup ? null : observer.freezerState(facts.cgroupPath, facts.cgroupRelativeTo);
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
