import { isProcessAlive, liveProcStat, PF_FORKNOEXEC, type ProcReader } from '../linux/proc.js';
import type { Observer } from '../machines/observe.js';

// The rules (what each kernel fact means in each status) are the chart's: src/machines/observe.ts.
export { observe, type Observer } from '../machines/observe.js';

/** The kernel's answers for a reconcile: /proc for processes (through the port), the cgroup freezer through `freezerState`. */
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
