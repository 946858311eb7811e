import fs from 'node:fs';
import { BenchError } from './errors.js';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for `ms` (fractions allowed) without spinning a CPU the container may need. */
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * True when the process has exited: /proc/<pid> is gone, or it is a zombie (Z) / dead (X). Pid 1 on this machine
 * reaps orphans lazily, so a container's init often stays a zombie for a while after exit; runc, crun and runts
 * all report a zombie init as "stopped".
 */
export function hasExited(pid: number): boolean {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true;
  }
  // The command name (field 2) may contain spaces and ')' — the state is the first field after the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}

/** Polls every 0.25 ms until `pid` has exited; throws after `timeoutMs`. */
export function waitExitedSync(pid: number, timeoutMs = 10_000): void {
  const deadline = Date.now() + timeoutMs;
  while (!hasExited(pid)) {
    if (Date.now() > deadline) throw new BenchError('sys', `container init pid ${pid} still running after ${timeoutMs} ms; is /bin/true in the rootfs?`);
    sleepSync(0.25);
  }
}

/** Reads a pid file written by `create --pid-file`. */
export function readPidFile(file: string): number {
  const pid = Number(fs.readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new BenchError('sys', `pid file ${file} does not hold a pid; the runtime's create is broken`);
  return pid;
}
