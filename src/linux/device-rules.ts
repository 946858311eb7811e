import type { LinuxResources } from './cgroups/index.js';

/**
 * Device access every container gets on top of its config's rules, as runc grants it: mknod of any node (the init
 * makes linux.devices inside the cgroup; opening them is another matter), the default device nodes runts creates
 * (null, zero, full, random, urandom, tty), the console, /dev/ptmx and the devpts slaves. Without these, the usual
 * "deny all" first rule would leave a container unable to open /dev/null.
 */
const ALWAYS_ALLOWED = [
  { type: 'c', major: -1, minor: -1, access: 'm' },
  { type: 'b', major: -1, minor: -1, access: 'm' },
  ...[[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 1], [5, 2], [136, -1]].map(([major, minor]) => ({ type: 'c', major, minor, access: 'rwm' })),
];

/**
 * The config's device rules, then allow rules for the default devices. A device of `linux.devices` gets no rule of
 * its own: as with runc, the node exists but a "deny all" first rule keeps it closed unless `resources.devices`
 * allows it (Docker's, Podman's and containerd's `--device` write both).
 */
export function effectiveResources(resources: LinuxResources | undefined): LinuxResources | undefined {
  if (!resources?.devices?.length) return resources;
  const allow = ALWAYS_ALLOWED.map((r) => ({ allow: true, ...r }));
  return { ...resources, devices: [...resources.devices, ...allow] };
}
