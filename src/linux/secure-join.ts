import { lstatSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';

/**
 * Joins `unsafePath` onto `root` resolving every symlink as if `root` were `/`, so the result never leaves
 * `root` (a link to `/etc` inside a rootfs means `<rootfs>/etc`, never the host's /etc; `..` stops at the root).
 * Components that do not exist yet are appended as they are (the caller creates them).
 *
 * This resolves on the host, for reading the image (its /etc/passwd); the init's own paths never use it: it
 * resolves them inside the rootfs with openat2 (see src/native/in-root.h).
 */
export function secureJoin(root: string, unsafePath: string): string {
  const parts = unsafePath.split('/').filter((p) => p !== '' && p !== '.');
  const resolved: string[] = [];
  let linksFollowed = 0;
  while (parts.length > 0) {
    const part = parts.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = posix.join(root, ...resolved, part);
    let isLink = false;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch {
      // Missing from here on: nothing left to resolve, keep the rest literally (still with `..` clamped).
      resolved.push(part);
      continue;
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++linksFollowed > 255) {
      throw Object.assign(new Error(`too many levels of symbolic links in ${unsafePath}`), { code: 'ELOOP' });
    }
    const target = readlinkSync(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    parts.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
  }
  return posix.join(root, ...resolved);
}
