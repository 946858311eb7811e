/**
 * Crash injection for reliability tests: with RUNTS_CRASH_AT=<point> (comma-separated for several), runts kills
 * itself with SIGKILL when it reaches that point — no cleanup, no flush, exactly as an orchestrator's SIGKILL
 * would leave things. Off (one env lookup) unless set.
 *
 * Points: create.after-insert, create.after-cgroup, create.after-clone, create.before-pidfile,
 * start.after-signal, kill.after-signal, delete.half-way, delete.before-record-removal.
 */
export type CrashPoint =
  | 'create.after-insert'
  | 'create.after-cgroup'
  | 'create.after-clone'
  | 'create.before-pidfile'
  | 'start.after-signal'
  | 'kill.after-signal'
  | 'delete.half-way'
  | 'delete.before-record-removal';

export const CRASH_POINTS: readonly CrashPoint[] = [
  'create.after-insert',
  'create.after-cgroup',
  'create.after-clone',
  'create.before-pidfile',
  'start.after-signal',
  'kill.after-signal',
  'delete.half-way',
  'delete.before-record-removal',
];

const armed = new Set((process.env.RUNTS_CRASH_AT ?? '').split(',').filter(Boolean));

export function crashPoint(point: CrashPoint): void {
  if (armed.size > 0 && armed.has(point)) process.kill(process.pid, 'SIGKILL');
}
