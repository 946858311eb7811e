/**
 * The two JSON shapes of a container's state: the OCI state (stdin of hooks) and what `runts state`
 * prints (runc's shape, which containerd parses).
 */
import { OCI_VERSION } from './default-spec.js';
import type { ContainerStatus, State } from './types.js';

export interface StateInput {
  id: string;
  status: ContainerStatus;
  /** Host pid of the init process; ignored (0) once stopped. */
  pid?: number;
  /** Absolute bundle path. */
  bundle: string;
  annotations?: Record<string, string>;
}

/** runc's `state` output: the OCI state plus rootfs, creation time and owner. */
export interface RuncState {
  ociVersion: string;
  id: string;
  pid: number;
  status: ContainerStatus;
  bundle: string;
  rootfs: string;
  /** RFC 3339 time (UTC). */
  created: string;
  annotations?: Record<string, string>;
  /** User name owning the container ("root"); "" when unknown. */
  owner: string;
}

export interface RuncStateInput extends StateInput {
  /** The bundle's ociVersion (runc reports the config's); default: the version runts implements. */
  ociVersion?: string;
  rootfs: string;
  created: Date | string;
  owner: string;
}

/** Like runc, a stopped container reports pid 0: the old pid may already belong to another process. */
export function pidFor(status: ContainerStatus, pid: number | undefined): number {
  return status === 'stopped' ? 0 : (pid ?? 0);
}

function nonEmpty(annotations: Record<string, string> | undefined): Record<string, string> | undefined {
  return annotations && Object.keys(annotations).length > 0 ? { ...annotations } : undefined;
}

/**
 * The OCI state object (runtime spec "State"): ociVersion 1.2.0, pid always present (0 when stopped),
 * annotations only when there are some.
 *
 * @example
 * JSON.stringify(ociState({ id: 'web', status: 'created', pid: 4242, bundle: '/b' }))
 * // {"ociVersion":"1.2.0","id":"web","status":"created","pid":4242,"bundle":"/b"}
 */
export function ociState(input: StateInput): State {
  const annotations = nonEmpty(input.annotations);
  return {
    ociVersion: OCI_VERSION,
    id: input.id,
    status: input.status,
    pid: pidFor(input.status, input.pid),
    bundle: input.bundle,
    ...(annotations ? { annotations } : {}),
  };
}

/**
 * What `runts state <id>` prints, field for field runc's `state` (same key order as runc's JSON).
 *
 * @example
 * runcStateJson({ id: 'web', status: 'running', pid: 4242, bundle: '/b', rootfs: '/b/rootfs',
 *                 created: new Date(), owner: 'root' })
 */
export function runcStateJson(input: RuncStateInput): RuncState {
  const annotations = nonEmpty(input.annotations);
  return {
    ociVersion: input.ociVersion ?? OCI_VERSION,
    id: input.id,
    pid: pidFor(input.status, input.pid),
    status: input.status,
    bundle: input.bundle,
    rootfs: input.rootfs,
    created: typeof input.created === 'string' ? input.created : input.created.toISOString(),
    ...(annotations ? { annotations } : {}),
    owner: input.owner,
  };
}
