import { readFileSync } from 'node:fs';
import { hostLayout, openCgroup, parseProcCgroup, resolveCgroupPath, type CgroupLayout } from '../linux/cgroups/index.js';
import { nativePort } from '../native/index.js';
import { runHooks, runHooksBestEffort } from '../oci/hooks.js';
import type { CgroupPort, Ports } from './ports.js';
import type { WorkerPool } from '../workers/pool.js';
import type { StopWaitRequest, StopWaitResult } from '../workers/stop-waiter.js';

/** The real ports: the native addon, this host's cgroupfs, hooks as processes. */
export function defaultPorts(workers: WorkerPool): Ports {
  return {
    sys: nativePort(),
    cgroups: hostCgroups(),
    hooks: { run: runHooks, runBestEffort: runHooksBestEffort },
    stopWaiter: { wait: (req) => workers.run<StopWaitRequest, StopWaitResult>('waitForStop', req) },
  };
}

/** cgroupfs as mounted on this host (detected once, on first use). */
export function hostCgroups(detect: () => CgroupLayout = hostLayout): CgroupPort {
  let layout: CgroupLayout | undefined;
  const get = () => (layout ??= detect());
  return {
    resolvePath: resolveCgroupPath,
    open: (path, relativeTo) => openCgroup(get(), path, relativeTo),
    cgroupsOf: (pid) => (pid === undefined ? { ...get().own } : parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))),
    views(path, relativeTo) {
      const l = get();
      const dirs = openCgroup(l, path, relativeTo).dirs;
      return l.hierarchies.map((h, i) => ({
        // What the container sees under its cgroup mount: the controller names (or "systemd" for name=systemd),
        // "unified" for hybrid's cgroup2 tree, and the tree itself on a pure v2 host.
        name: h.version === 2 ? (l.mode === 'v2' ? '' : 'unified') : h.controllers.map((c) => c.replace(/^name=/, '')).join(','),
        hostDir: dirs[i],
      }));
    },
  };
}
