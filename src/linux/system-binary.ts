import { existsSync } from 'node:fs';

/**
 * The absolute path of a system program (nsenter, newuidmap, …) in the standard directories, or undefined: runts
 * runs these by a path it chose, never through the caller's PATH.
 */
export function findSystemBinary(name: string): string | undefined {
  return ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((d) => `${d}/${name}`).find((p) => existsSync(p));
}
