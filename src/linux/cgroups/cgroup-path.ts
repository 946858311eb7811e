import { CgroupError } from './cgroup-error.js';

function badPath(cgroupsPath: string, why: string): CgroupError {
  return new CgroupError('bad_config', `invalid linux.cgroupsPath "${cgroupsPath}": ${why}; fix it in config.json`);
}

/** Splits, drops empty and "." components, and refuses "..": a cgroup path must not climb out of its parent. */
function cleanComponents(cgroupsPath: string, p: string): string[] {
  const parts = p.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.includes('..')) throw badPath(cgroupsPath, '".." components are not allowed');
  return parts;
}

/**
 * systemd's slice naming: "a-b-c.slice" lives at /a.slice/a-b.slice/a-b-c.slice ("-.slice" is the root).
 * We have no systemd here, but follow its layout so paths match what a systemd host would use.
 */
function expandSlice(cgroupsPath: string, slice: string): string[] {
  if (!slice.endsWith('.slice') || slice.includes('/')) throw badPath(cgroupsPath, `"${slice}" is not a slice name`);
  if (slice === '-.slice') return [];
  const base = slice.slice(0, -'.slice'.length);
  if (base.startsWith('-') || base.endsWith('-') || base.includes('--')) {
    throw badPath(cgroupsPath, `"${slice}" is not a valid slice name`);
  }
  const words = base.split('-');
  return words.map((_w, i) => `${words.slice(0, i + 1).join('-')}.slice`);
}

/**
 * Turns an OCI `linux.cgroupsPath` into the cgroup path runts uses (cgroupfs driver, as runc):
 * - undefined or "" → `/runts/<id>`
 * - absolute (`/a/b`) → itself, cleaned; it is relative to each hierarchy's root
 * - systemd style `slice:prefix:name` (containerd/kubelet with the systemd driver) → `/<slice>/<prefix>-<name>.scope`
 *   (the slice expanded as systemd does: `a-b.slice` → `/a.slice/a-b.slice`; an empty slice is system.slice)
 * - relative (`a/b`) → returned relative, cleaned; {@link openCgroup} places it under the runtime's own cgroup in
 *   each hierarchy, as runc does
 *
 * Throws a `bad_config` CgroupError for ".." components or a malformed systemd path.
 *
 * @example
 * resolveCgroupPath(undefined, 'web');                       // '/runts/web'
 * resolveCgroupPath('system.slice:cri-containerd:abc', 'abc'); // '/system.slice/cri-containerd-abc.scope'
 */
export function resolveCgroupPath(cgroupsPath: string | undefined, id: string): string {
  if (cgroupsPath === undefined || cgroupsPath === '') {
    return '/' + cleanComponents(`/runts/${id}`, `runts/${id}`).join('/');
  }
  if (!cgroupsPath.startsWith('/') && cgroupsPath.split(':').length === 3) {
    const [slice, prefix, name] = cgroupsPath.split(':');
    if (!name || name.includes('/') || prefix.includes('/') || name === '..' || name === '.') {
      throw badPath(cgroupsPath, 'expected "slice:prefix:name" with a non-empty name and no "/"');
    }
    // A name that is itself a slice is used as is (systemd: the unit is the slice).
    const unit = name.endsWith('.slice') ? name : `${prefix ? `${prefix}-` : ''}${name}.scope`;
    return '/' + [...expandSlice(cgroupsPath, slice || 'system.slice'), unit].join('/');
  }
  const parts = cleanComponents(cgroupsPath, cgroupsPath);
  if (cgroupsPath.startsWith('/')) {
    if (parts.length === 0) throw badPath(cgroupsPath, 'the root cgroup cannot hold a container');
    return '/' + parts.join('/');
  }
  if (parts.length === 0) throw badPath(cgroupsPath, 'the path is empty');
  return parts.join('/');
}
