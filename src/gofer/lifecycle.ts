/**
 * The gofer's life as the runtime sees it: recorded at create (pid + start time, the PID-reuse guard), checked,
 * and stopped with SIGKILL at teardown. Watching for an unexpected exit is the resident host's job: it opens a
 * pidfd with {@link openGoferPidfd} and turns the exit into `gofer.exited`.
 */
import { isProcessAlive } from '../linux/proc.js';
import type { SyscallPort } from '../native/port.js';
import { WNOHANG } from '../native/plan.js';
import { goferPidFromSocket } from './client.js';
import { GoferError } from './errors.js';

/** The facts this module reads and writes (a subset of the stored ContainerFacts). */
export interface GoferFacts {
  id: string;
  goferPid: number;
  goferStartTime?: number | null;
}

/** How long {@link stopGofer} waits for the gofer to be gone after SIGKILL. */
export const GOFER_STOP_DEADLINE_MS = 5000;

/** For stopGofer: how long to wait, and the state root. */
export interface GoferProcOptions {
  timeoutMs?: number;
  /**
   * stopGofer only: the state root. When no gofer pid was recorded (runts was killed between the spawn and
   * saving the facts), the gofer still listening on `<root>/<id>/gofer.sock` is asked for its pid.
   */
  root?: string;
}

/** What recording and checking the gofer read (/proc/<pid>/stat, through the port). */
export type GoferSys = Pick<SyscallPort, 'procStat'>;

function startTimeOf(facts: GoferFacts): number | null {
  return typeof facts.goferStartTime === 'number' ? facts.goferStartTime : null;
}

/**
 * Records the gofer spawn() started: `facts.goferPid` and `facts.goferStartTime` (from /proc/<pid>/stat).
 * @example recordGofer(facts, (await sys.spawn(plan)).goferPid, sys);
 */
export function recordGofer(facts: GoferFacts, goferPid: number, sys: GoferSys): void {
  facts.goferPid = goferPid;
  facts.goferStartTime = goferPid > 0 ? (sys.procStat(goferPid)?.startTime ?? null) : null;
}

/** True while the recorded gofer runs (same pid and start time, not a zombie). */
export function isGoferAlive(facts: GoferFacts, sys: GoferSys): boolean {
  return facts.goferPid > 0 && isProcessAlive(sys, facts.goferPid, startTimeOf(facts));
}

/**
 * A pidfd for the recorded gofer, or null when it is gone (or its pid now names another process). The pidfd is
 * opened first and the identity checked after, so a pidfd that is returned cannot point at a reused pid.
 * The caller closes it (`sys.closeFd`).
 */
export function openGoferPidfd(facts: GoferFacts, sys: SyscallPort): number | null {
  if (!(facts.goferPid > 0)) return null;
  let pidfd: number;
  try {
    pidfd = sys.pidfdOpen(facts.goferPid);
  } catch {
    return null; // ESRCH: gone
  }
  if (!isGoferAlive(facts, sys)) {
    sys.closeFd(pidfd);
    return null;
  }
  return pidfd;
}

/**
 * Kills the container's gofer with SIGKILL (the only signal it obeys) through a pidfd, after checking it is still
 * the gofer (start time recorded at create), and waits until it has exited. Reaps it when it is our own child
 * (the process that created the container); otherwise its parent (a subreaper, or init) does. Idempotent: a
 * gofer that is gone already, or never existed (goferPid 0), is fine. Call it before the state directory (which
 * holds the gofer's socket) is removed: with `opts.root`, an unrecorded gofer is found through its socket.
 *
 * @throws GoferError (sys) when it is still alive {@link GOFER_STOP_DEADLINE_MS} after SIGKILL.
 * @example await stopGofer(c.facts, env.ports.sys);
 */
export async function stopGofer(facts: GoferFacts, sys: SyscallPort, opts: GoferProcOptions = {}): Promise<void> {
  const exited = await killGofer(facts, sys, opts);
  await exited();
}

/**
 * stopGofer in two steps: finds the gofer and sends the SIGKILL, then returns the wait for its exit (and its reaping).
 * Once this has resolved the socket is no longer needed, so a teardown removes the state directory — and everything
 * else — while the gofer exits: its exit drops the container's mount namespace, which takes a while.
 */
export async function killGofer(facts: GoferFacts, sys: SyscallPort, opts: GoferProcOptions = {}): Promise<() => Promise<void>> {
  const timeoutMs = opts.timeoutMs ?? GOFER_STOP_DEADLINE_MS;
  if (!(facts.goferPid > 0) && opts.root !== undefined) await adoptFromSocket(facts, opts.root, sys);
  const pidfd = openGoferPidfd(facts, sys);
  if (pidfd === null) {
    reap(facts, sys);
    return async () => undefined;
  }
  try {
    sys.pidfdSendSignal(pidfd, 9);
  } catch (e) {
    sys.closeFd(pidfd);
    throw e;
  }
  return async () => {
    try {
      if (!(await sys.pidfdWaitAsync(pidfd, timeoutMs))) {
        throw new GoferError('sys', `the gofer (pid ${facts.goferPid}) of container "${facts.id}" is still alive ${timeoutMs} ms after SIGKILL: check it with ps`);
      }
    } finally {
      sys.closeFd(pidfd);
    }
    reap(facts, sys);
  };
}

/** Records the pid the container's socket answers with, if that process is a runts-gofer. */
async function adoptFromSocket(facts: GoferFacts, root: string, sys: SyscallPort): Promise<void> {
  const pid = await goferPidFromSocket(root, facts.id);
  if (pid === null || !(pid > 0)) return;
  if (sys.procComm(pid) === 'runts-gofer') recordGofer(facts, pid, sys);
}

/**
 * waitpid(WNOHANG) when the gofer is a zombie still naming our recorded process (then it can only be our child or
 * another's, never a reused pid). ECHILD — someone else's child — is the common case and fine.
 */
function reap(facts: GoferFacts, sys: SyscallPort): void {
  const stat = facts.goferPid > 0 ? sys.procStat(facts.goferPid) : null;
  const recorded = startTimeOf(facts);
  if (!stat || stat.state !== 'Z' || (recorded !== null && stat.startTime !== recorded)) return;
  try {
    sys.waitPid(facts.goferPid, WNOHANG);
  } catch {
    // not our child
  }
}
