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
