import type { Spec } from '../oci/types.js';

/** What runts knows about a container besides its statechart snapshot. */
export interface ContainerFacts {
  id: string;
  bundle: string;
  rootfs: string;
  sandboxId: string;
  initPid: number;
  initStartTime: number | null;
  goferPid: number;
  cgroupPath: string;
  /**
   * A relative cgroupPath hangs from these cgroups — the creator's, by controller (as /proc/<pid>/cgroup names them,
   * "" for cgroup2) — read once at create, as runc resolves it once: later commands, from whatever cgroup they run
   * in, find the same directories. Absent for an absolute path.
   */
  cgroupRelativeTo?: Record<string, string>;
  /** ISO 8601 creation time. */
  created: string;
  owner: string;
  annotations: Record<string, string>;
  creatorPid: number;
  creatorStartTime: number | null;
  /** The gofer's start time (/proc/<pid>/stat), its PID-reuse guard; null when unknown. */
  goferStartTime?: number | null;
  /** The cgroup existed before the create (or is joined): teardown leaves it in place. */
  cgroupShared?: boolean;
  /** Created by a user other than root (src/linux/rootless.ts): its cgroup exists only where that user could make it. */
  rootless?: boolean;
  /** Created without root where no cgroup was writable: it runs in its creator's cgroups (pause, update, stats refused). */
  noCgroup?: boolean;
  /** The bundle's ociVersion, kept for listings read without the spec. */
  ociVersion?: string;
  /** create --console-socket (the exec of a terminal process sends its pty there too). */
  consoleSocket?: string;
  /** create --preserve-fds. */
  preserveFds?: number;
  /** The container dies with its creator (a foreground run). */
  attached?: boolean;
  /** The container's config (stored apart from the rest; absent in records read without it). */
  spec?: Spec;
}
