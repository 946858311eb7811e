import * as path from 'node:path';
import { CgroupError } from './cgroup-error.js';

/**
 * Sub-cgroups of a container's cgroup an exec'd process starts in (runc 1.1's `exec --cgroup`): controller →
 * path relative to the container's cgroup; the key '' means every hierarchy (cgroup v2: the only form).
 */
export type SubCgroups = Record<string, string>;

/**
 * Parses `exec --cgroup` values as runc does: one `<path>` (every hierarchy), or any number of
 * `<controller>[,<controller>...]:<path>`, each controller at most once. A path must stay inside the container's
 * cgroup: relative and without "..", else refused (runc joins "../x" or "/x" onto the container's path as given).
 * @example parseSubCgroups(['cpu,cpuacct:busy', 'memory:m']) // { cpu: 'busy', cpuacct: 'busy', memory: 'm' }
 */
export function parseSubCgroups(values: string[]): SubCgroups {
  const sub: SubCgroups = {};
  for (const value of values) {
    const parts = value.split(':');
    if (parts.length > 2) throw bad(value, 'use <path> or <controller>[,<controller>]:<path>');
    const rel = checkedPath(value, parts.at(-1)!);
    if (parts.length === 1) {
      if (values.length !== 1) throw bad(value, 'with several --cgroup, each needs its <controller>: prefix');
      sub[''] = rel;
      continue;
    }
    for (const controller of parts[0].split(',')) {
      if (controller === '') throw bad(value, 'the <controller> before ":" is empty');
      if (Object.hasOwn(sub, controller)) throw bad(value, `controller ${controller} is given more than once`);
      sub[controller] = rel;
    }
  }
  return sub;
}

function checkedPath(value: string, rel: string): string {
  if (rel === '' || path.isAbsolute(rel) || rel.split('/').includes('..')) {
    throw bad(value, 'give a path inside the container\'s cgroup, relative and without ".."');
  }
  return path.normalize(rel);
}

function bad(value: string, fix: string): CgroupError {
  return new CgroupError('bad_config', `invalid --cgroup "${value}": ${fix}`);
}
