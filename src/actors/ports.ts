import type { Logger } from 'pino';
import type { SyscallPort } from '../native/port.js';
import type { CgroupView } from '../linux/plan-init.js';
import type { CgroupManager } from '../linux/cgroups/index.js';
import type { Hook, Spec, State } from '../oci/types.js';
import type { HookPoint } from '../oci/hooks.js';
import type { ContainerFacts } from '../persistence/store.js';
import type { StopWaitRequest, StopWaitResult } from '../workers/stop-waiter.js';

/** Everything an effect may touch, behind interfaces so unit tests can pass fakes. */
export interface Ports {
  sys: SyscallPort;
  cgroups: CgroupPort;
  hooks: HookPort;
  stopWaiter: StopWaiterPort;
}

/** Waits (exactly, on a worker thread) until processes and a cgroup are empty; see src/workers/stop-waiter.ts. */
export interface StopWaiterPort {
  wait(req: StopWaitRequest): Promise<StopWaitResult>;
}

export interface CgroupPort {
  /** The cgroup path a container gets (config's cgroupsPath, or the runts default). */
  resolvePath(cgroupsPath: string | undefined, id: string): string;
  /** `relativeTo`: the cgroups a relative path hangs from (a container's cgroupRelativeTo); this process's by default. */
  open(path: string, relativeTo?: Record<string, string>): CgroupManager;
  /** What a `cgroup` mount inside the container shows: each hierarchy's directory of this cgroup. */
  views(path: string, relativeTo?: Record<string, string>): CgroupView[];
  /** The cgroups, by controller, of process `pid` (/proc/<pid>/cgroup), or of this process. */
  cgroupsOf(pid?: number): Record<string, string>;
}

export interface HookPort {
  run(point: HookPoint, hooks: Hook[] | undefined, state: State, opts?: { nsenterPid?: number; nsenterUser?: boolean; seccomp?: Buffer }): Promise<void>;
  runBestEffort(point: HookPoint, hooks: Hook[] | undefined, state: State, warn: (msg: string) => void): Promise<void>;
}

/** Where a runtime lives and what it may use. */
export interface ContainerEnv {
  root: string;
  ports: Ports;
  log: Logger;
  /** How long a stop may take before SIGKILL (graceful delete) or before giving up (after SIGKILL). */
  stopTimeoutMs: number;
}

/**
 * A container's facts with its config loaded: what effects and the host work on. Effects take them as data and never
 * change them: what an effect changed comes back as its patch, which the chart merges in (see effects.ts).
 */
export type LiveFacts = ContainerFacts & { spec: Spec };
