import { closeSync, openSync, write } from 'node:fs';
import path from 'node:path';
import { leafDir } from './manager.js';
import { hostLayout, type CgroupLayout } from './layout.js';

let inFlight = false;

/**
 * Starts, in the background, the wait the kernel imposes on the first move of a process into a cgroup, so that
 * the create's real move (the init's, a few milliseconds later) finds it done or under way.
 *
 * Why: writing a pid to cgroup.procs takes the kernel's global cgroup_threadgroup_rwsem for writing, and the
 * first writer after a quiet spell waits for a whole RCU grace period (milliseconds; runc and
 * crun pay it too); writers in the following tens of milliseconds pass at once or wait only for what is left of
 * it. Writing our own pid to the cgroup we are already in is such a writer and moves nothing. The write runs on a
 * libuv pool thread, so the caller goes on (record, plan, mounts) while the grace period elapses; the file is
 * opened here, synchronously, because a pool write that needed the main thread between its steps (fs.writeFile:
 * open, then write) would wait for the caller's synchronous work to end and start too late. One at a time.
 *
 * Only the CLI's `create` and `run` call it, first thing in a process whose init joins its cgroup tens of
 * milliseconds later. A long-lived Runtime does not: its creates follow one another closely, and a warm-up write
 * pending there held up the process's own clones and exits (the rwsem's readers wait behind a writer): a create,
 * start, wait, delete cycle was quicker without it (bench/RESULTS.md).
 *
 * Best effort: any failure (no cgroupfs, no permission) only loses the head start.
 */
export function warmUpCgroupAttach(layout?: CgroupLayout): void {
  if (inFlight) return;
  let fd: number;
  try {
    const l = layout ?? hostLayout();
    if (l.hierarchies.length === 0) return;
    fd = openSync(path.join(leafDir(l.hierarchies[0], '.', l.own), 'cgroup.procs'), 'w');
  } catch {
    return;
  }
  inFlight = true;
  write(fd, String(process.pid), () => {
    closeSync(fd);
    inFlight = false;
  });
}
