import type { LinuxResources } from '../../oci/types.js';
import { effectiveResources } from '../../linux/device-rules.js';
import type { Spec } from '../../oci/types.js';
import type { ContainerEnv, LiveFacts } from '../ports.js';
import { containerCgroup } from '../container-cgroup.js';

/**
 * Applies new resource limits to the live cgroup and keeps them in the container's stored config (what `update`
 * changes, later reads — `events --stats`, a restart of the host — see). Returns the patch of the facts: the new spec.
 */
export function updateContainer(facts: Readonly<LiveFacts>, env: ContainerEnv, changes: LinuxResources): { spec: Spec } {
  const merged = mergeResources(facts.spec.linux?.resources ?? {}, changes);
  // Only the changed controllers are written; device rules are re-applied whole when given.
  const warnings = containerCgroup(env.ports.cgroups, facts, 'update').apply(effectiveResources(changes) ?? {});
  for (const w of warnings) env.log.warn({ id: facts.id }, w);
  return { spec: { ...facts.spec, linux: { ...facts.spec.linux, resources: merged } } };
}

/** Field-by-field merge of two resource blocks (the second wins), one level deep as runc's update does. */
export function mergeResources(base: LinuxResources, changes: LinuxResources): LinuxResources {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(changes)) {
    const prev = out[key];
    out[key] = value && typeof value === 'object' && !Array.isArray(value) && prev && typeof prev === 'object' ? { ...prev, ...value } : value;
  }
  return out as LinuxResources;
}
