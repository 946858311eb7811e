import type { LinuxResources } from './cgroups/index.js';
import type { LinuxDevice } from '../oci/types.js';

/**
 * Device access every container gets on top of its config's rules, as runc grants it: the default device nodes
 * runts creates (null, zero, full, random, urandom, tty), the console, /dev/ptmx and the devpts slaves. Without
 * these, the usual "deny all" first rule would leave a container unable to open /dev/null.
 */
const ALWAYS_ALLOWED = [
  { type: 'c', major: 1, minor: 3 },
  { type: 'c', major: 1, minor: 5 },
  { type: 'c', major: 1, minor: 7 },
  { type: 'c', major: 1, minor: 8 },
  { type: 'c', major: 1, minor: 9 },
  { type: 'c', major: 5, minor: 0 },
  { type: 'c', major: 5, minor: 1 },
  { type: 'c', major: 5, minor: 2 },
  { type: 'c', major: 136, minor: -1 },
];

/** The config's device rules, then allow rules for the default devices and for every device the config creates. */
export function effectiveResources(resources: LinuxResources | undefined, devices: LinuxDevice[] | undefined): LinuxResources | undefined {
  if (!resources?.devices?.length) return resources;
  const created = (devices ?? [])
    .filter((d) => d.type === 'c' || d.type === 'b' || d.type === 'u')
    .map((d) => ({ type: d.type === 'u' ? 'c' : d.type, major: d.major ?? -1, minor: d.minor ?? -1 }));
  const allow = [...ALWAYS_ALLOWED, ...created].map((r) => ({ allow: true, ...r, access: 'rwm' }));
  return { ...resources, devices: [...resources.devices, ...allow] };
}
