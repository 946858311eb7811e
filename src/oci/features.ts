/**
 * `runts features`: what this runtime supports, in the shape of runc's `runc features` (OCI runtime
 * spec features.md).
 */
import { CAPABILITIES, HOOK_POINTS } from './constants.js';
import { SUPPORTED_SECCOMP_ACTIONS, SUPPORTED_SECCOMP_ARCHS, SUPPORTED_SECCOMP_OPERATORS } from '../linux/seccomp.js';
import { OCI_VERSION } from './default-spec.js';
import { MOUNT_OPTIONS } from './mount-options.js';

export { MOUNT_OPTIONS, parseMountOptions } from './mount-options.js';
export type { MountOption, ParsedMountOptions } from './mount-options.js';

/** The annotation of `runts features` that says what runts supports without root. */
export const ROOTLESS_ANNOTATION = 'org.opencontainers.runts.rootless';
export const ROOTLESS_SUPPORT =
  'supported: state root $XDG_RUNTIME_DIR/runts; a user namespace is required (the caller\'s own ids, subordinate ranges from /etc/subuid and /etc/subgid through newuidmap/newgidmap); cgroups only where delegated to the user (else none: pause, update and events --stats are refused); devices bind-mounted; rlimits no higher and oom_score_adj no lower than the caller\'s';

/** The features JSON (fields runts fills; all arrays sorted or in kernel order like runc's). */
export interface Features {
  ociVersionMin: string;
  ociVersionMax: string;
  hooks: string[];
  mountOptions: string[];
  linux: {
    namespaces: string[];
    capabilities: string[];
    cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean; rdma?: boolean };
    seccomp: { enabled: boolean; actions?: string[]; operators?: string[]; archs?: string[] };
    apparmor: { enabled: boolean };
    selinux: { enabled: boolean };
    intelRdt: { enabled: boolean };
    mountExtensions: { idmap: { enabled: boolean } };
  };
  annotations: Record<string, string>;
}

export interface FeaturesOptions {
  /**
   * Report seccomp as supported (default true: profiles are compiled with libseccomp and installed by the init and
   * exec'd processes). false reports `{ enabled: false }`, for a build without the addon.
   */
  seccompEnabled?: boolean;
  /** runts version, reported as an annotation. */
  version?: string;
}

/**
 * What runts supports. Namespaces: the seven runc lists; the time namespace is left out because the init
 * does not set up time offsets. Cgroups: v1 and v2 through cgroupfs; no systemd driver (--systemd-cgroup is
 * accepted but the cgroupfs layout is used).
 *
 * @example
 * process.stdout.write(JSON.stringify(features(), null, '    ') + '\n');
 */
export function features(opts: FeaturesOptions = {}): Features {
  const seccomp = opts.seccompEnabled !== false;
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: [...HOOK_POINTS],
    mountOptions: Object.keys(MOUNT_OPTIONS).sort(),
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'],
      capabilities: [...CAPABILITIES.keys()],
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false },
      seccomp: seccomp
        ? {
            enabled: true,
            actions: [...SUPPORTED_SECCOMP_ACTIONS],
            operators: [...SUPPORTED_SECCOMP_OPERATORS],
            archs: [...SUPPORTED_SECCOMP_ARCHS],
          }
        : { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: {
      ...(opts.version ? { 'org.opencontainers.runts.version': opts.version } : {}),
      // runc says nothing of rootless in its features; runts names what a non-root user gets (README "Without root").
      [ROOTLESS_ANNOTATION]: ROOTLESS_SUPPORT,
    },
  };
}
