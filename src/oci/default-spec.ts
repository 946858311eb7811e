/**
 * The config.json `runts spec` writes: the same content as `runc spec` (and `runc spec --rootless`), except
 * ociVersion, which names the spec version runts implements.
 */
import type { Mount, Spec } from './types.js';

/** The OCI runtime spec version runts implements and writes. */
export const OCI_VERSION = '1.2.0';

export interface DefaultSpecOptions {
  /** The `--rootless` variant: a user namespace mapping the caller's ids, no network namespace, no cgroup device rules. */
  rootless?: boolean;
  /** process.args; default ["sh"]. */
  args?: string[];
}

const DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

function mounts(rootless: boolean): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      // Rootless: gid 5 (tty) is usually not mapped into the user namespace, and devpts refuses an unmapped gid.
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(rootless ? [] : ['gid=5'])],
    },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    // Rootless has no network namespace of its own, and sysfs can only be mounted fresh by the owner of the
    // network namespace: bind the host's /sys instead.
    rootless
      ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
  ];
}

/**
 * A fresh default config (a new object each call, safe to edit).
 *
 * @example
 * const spec = defaultSpec({ args: ['sleep', '60'] });
 * spec.process!.terminal = false;
 * writeFileSync('config.json', JSON.stringify(spec, null, '\t'));
 */
export function defaultSpec(opts: DefaultSpecOptions = {}): Spec {
  const rootless = opts.rootless === true;
  const spec: Spec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: opts.args ? [...opts.args] : ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: [...DEFAULT_CAPS],
        effective: [...DEFAULT_CAPS],
        permitted: [...DEFAULT_CAPS],
        ambient: [...DEFAULT_CAPS],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: mounts(rootless),
    linux: rootless
      ? {
          // Map root in the container to whoever runs `runts spec` (what runc does).
          uidMappings: [{ containerID: 0, hostID: process.geteuid?.() ?? 0, size: 1 }],
          gidMappings: [{ containerID: 0, hostID: process.getegid?.() ?? 0, size: 1 }],
          namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'user' }],
          maskedPaths: maskedPaths(),
          readonlyPaths: readonlyPaths(),
        }
      : {
          resources: { devices: [{ allow: false, access: 'rwm' }] },
          namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
          maskedPaths: maskedPaths(),
          readonlyPaths: readonlyPaths(),
        },
  };
  return spec;
}

function maskedPaths(): string[] {
  return [
    '/proc/acpi',
    '/proc/asound',
    '/proc/kcore',
    '/proc/keys',
    '/proc/latency_stats',
    '/proc/timer_list',
    '/proc/timer_stats',
    '/proc/sched_debug',
    '/sys/firmware',
    '/proc/scsi',
  ];
}

function readonlyPaths(): string[] {
  return ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
}
