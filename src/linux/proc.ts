import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { ProcStat, SyscallPort } from '../native/port.js';

/** What the liveness checks read /proc through: the injected port (the fake in unit tests). */
export type ProcReader = Pick<SyscallPort, 'procStat'>;

/** The fields of /proc/<pid>/stat that runts relies on. */
export type { ProcStat };

/** Task flag: the process was forked (cloned) and has not exec'd since; execve clears it. */
export const PF_FORKNOEXEC = 0x40;
/** The task is in exit(): set before it kills the rest of its pid namespace and becomes a zombie. */
export const PF_EXITING = 0x4;

/**
 * Reads /proc/<pid>/stat, or returns null when there is no such process. The real port's procStat; everything else
 * asks the port.
 * The comm field may hold spaces and parentheses, so the fixed fields are parsed after the last ')'.
 */
export function readProcStat(pid: number, procRoot = '/proc'): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); flags is field 9, start time field 22.
  return { pid, state: fields[0], ppid: Number(fields[1]), startTime: Number(fields[19]), flags: Number(fields[6]) };
}

/**
 * "Alive" as runc and crun check it: present, not a zombie (PID 1 here reaps orphans slowly), and — when a start
 * time was recorded — still the same process rather than a new one that reused the PID.
 */
export function isProcessAlive(proc: ProcReader, pid: number, startTime: number | null | undefined): boolean {
  return liveProcStat(proc, pid, startTime) !== null;
}

/** The /proc/<pid>/stat of the process, when it is alive in the sense of {@link isProcessAlive}; else null. */
export function liveProcStat(proc: ProcReader, pid: number, startTime: number | null | undefined): ProcStat | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const stat = proc.procStat(pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return null;
  return startTime == null || stat.startTime === startTime ? stat : null;
}

/** The pids under /proc (the real port's procPids). */
export function listProcPids(procRoot = '/proc'): number[] {
  return readdirSync(procRoot)
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** SigCgt of /proc/<pid>/status as a bit mask (bit n-1 = signal n), null when gone (the real port's caughtSignals). */
export function readCaughtSignals(pid: number, procRoot = '/proc'): bigint | null {
  try {
    const hex = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`${procRoot}/${pid}/status`, 'utf8'))?.[1];
    return hex === undefined ? null : BigInt(`0x${hex}`);
  } catch {
    return null;
  }
}

/** /proc/<pid>/comm without its newline, null when gone (the real port's procComm). */
export function readProcComm(pid: number, procRoot = '/proc'): string | null {
  try {
    return readFileSync(`${procRoot}/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Reads a process's oom_score_adj; null when the process is gone. */
export function readOomScoreAdj(pid: number, procRoot = '/proc'): number | null {
  try {
    return Number(readFileSync(`${procRoot}/${pid}/oom_score_adj`, 'utf8').trim());
  } catch {
    return null;
  }
}

/** Sets a process's oom_score_adj; a process that already exited is not an error (returns false). */
export function writeOomScoreAdj(pid: number, score: number, procRoot = '/proc'): boolean {
  try {
    writeFileSync(`${procRoot}/${pid}/oom_score_adj`, String(score));
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return false;
    throw e;
  }
}

/**
 * The permitted capability set of this process (CapPrm in /proc/self/status), bit n = capability n: what a
 * process it clones can keep. null when it cannot be read.
 */
export function readOwnPermittedCaps(procRoot = '/proc'): bigint | null {
  try {
    const hex = /^CapPrm:\s*([0-9a-f]+)$/m.exec(readFileSync(`${procRoot}/self/status`, 'utf8'))?.[1];
    return hex === undefined ? null : BigInt(`0x${hex}`);
  } catch {
    return null;
  }
}

/** A waited process's exit status by the shell's convention: its exit code, or 128 + the signal that killed it. */
export function exitStatus(w: { exitCode: number | null; signal: number | null }): number {
  return w.exitCode ?? 128 + (w.signal ?? 0);
}
