import type { CgroupManager } from '../linux/cgroups/index.js';
import { isProcessAlive } from '../linux/proc.js';
import type { SyscallPort } from '../native/port.js';

export interface StopWaitRequest {
  /** Processes that must be gone (init, gofer), with start times to tell them from PID reuse. */
  processes: { pid: number; startTime: number | null }[];
  /** When set, every process of this cgroup must be gone too (`kill --all`, delete). */
  cgroupPath?: string;
  /** The cgroups a relative cgroupPath hangs from (the container's cgroupRelativeTo). */
  cgroupRelativeTo?: Record<string, string>;
  deadlineMs: number;
  /** Constant backoff of the fallback where no pidfd can be had. */
  pollMs?: number;
}

export interface StopWaitResult {
  stopped: boolean;
  /** Still alive at the deadline. */
  remaining: number[];
  waitedMs: number;
  /** How the last exit was noticed: exactly through a pidfd, or by the polling fallback. */
  detection: 'pidfd' | 'poll' | 'none';
}

const ESRCH = 3;

/**
 * Waits until every given process (and, with a cgroup, every process in it) is gone, or the deadline passes.
 * Exact where it can be: it blocks in poll(2) on a pidfd of one live process at a time, so an exit is seen the
 * moment it happens; where pidfd_open is refused it falls back to checking every `pollMs`. Exited children of
 * this process are reaped on the way so they do not linger as zombies. Runs on a worker thread (tasks.ts gives it
 * the real port and this host's cgroupfs).
 */
export function waitForStop(req: StopWaitRequest, sys: SyscallPort, openCgroup: (path: string, relativeTo?: Record<string, string>) => CgroupManager): StopWaitResult {
  const start = Date.now();
  const deadline = start + req.deadlineMs;
  const cgroup = req.cgroupPath ? openCgroup(req.cgroupPath, req.cgroupRelativeTo) : undefined;
  let detection: StopWaitResult['detection'] = 'none';
  for (;;) {
    const alive = req.processes.filter((p) => isProcessAlive(sys, p.pid, p.startTime)).map((p) => p.pid);
    if (cgroup?.exists()) for (const pid of cgroup.pids()) if (!alive.includes(pid) && isProcessAlive(sys, pid, null)) alive.push(pid);
    if (alive.length === 0) return { stopped: true, remaining: [], waitedMs: Date.now() - start, detection };
    const left = deadline - Date.now();
    if (left <= 0) return { stopped: false, remaining: alive, waitedMs: Date.now() - start, detection };
    const pid = alive[0];
    let fd = -1;
    try {
      fd = sys.pidfdOpen(pid);
    } catch (e) {
      if ((e as { errno?: number }).errno === ESRCH) continue; // gone between the check and the open
    }
    if (fd >= 0) {
      try {
        sys.pidfdWait(fd, left);
        detection = 'pidfd';
      } finally {
        sys.closeFd(fd);
      }
    } else {
      sleepSync(Math.min(req.pollMs ?? 100, left));
      detection = 'poll';
    }
    reapIfOurs(pid, sys);
  }
}

function reapIfOurs(pid: number, sys: SyscallPort): void {
  if (sys.procStat(pid)?.ppid !== process.pid) return;
  try {
    sys.waitPid(pid, 1 /* WNOHANG */);
  } catch {
    // someone else reaped it
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
