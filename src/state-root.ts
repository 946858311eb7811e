import { lstatSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { RuntsError } from './errors.js';
import { inUserNamespace } from './linux/rootless.js';

/** A state root that cannot be used by this user (code bad_config). */
export class StateRootError extends RuntsError {}

/** The state root of the root user (runc's is /run/runc). */
export const ROOT_STATE_ROOT = '/run/runts';

/**
 * The state root when --root is not given: /run/runts for root; for any other user `$XDG_RUNTIME_DIR/runts`, as
 * runc uses `$XDG_RUNTIME_DIR/runc`. A non-root user never falls back to /run/runts (root's store): without
 * XDG_RUNTIME_DIR the command fails and says what to set. Root of a user namespace with XDG_RUNTIME_DIR set uses
 * that too.
 * @example defaultStateRoot({ XDG_RUNTIME_DIR: '/run/user/1000' }, 1000) // '/run/user/1000/runts'
 */
export function defaultStateRoot(env: NodeJS.ProcessEnv = process.env, euid = process.geteuid?.() ?? 0, inUserNs?: boolean): string {
  const xdg = env.XDG_RUNTIME_DIR;
  // Root of a user namespace (rootless Podman runs its runtime so) keeps its state in the user's runtime directory
  // when it has one, as runc does. (Only then is /proc/self/uid_map read: most commands need not.)
  if (euid === 0 && xdg && isAbsolute(xdg) && (inUserNs ?? inUserNamespace())) return join(xdg, 'runts');
  if (euid === 0) return ROOT_STATE_ROOT;
  if (!xdg || !isAbsolute(xdg)) {
    throw new StateRootError(
      'bad_config',
      `XDG_RUNTIME_DIR is not set (or not absolute) and runts runs without root: set it to your own runtime directory (e.g. /run/user/${euid}) or pass --root <dir>`,
    );
  }
  return join(xdg, 'runts');
}

/**
 * A user other than root keeps its containers in a state root of its own: the directory must belong to that user
 * and be writable by no one else (runts makes it 0700), or another user could see, replace or delete its records.
 * Root's use of any root is unchanged (the admin chooses).
 */
export function checkStateRootOwner(dir: string, euid = process.geteuid?.() ?? 0): void {
  if (euid === 0) return;
  const st = lstatSync(dir);
  if (!st.isDirectory()) {
    throw new StateRootError('bad_config', `state root "${dir}" is not a directory (a symlink?): pass a directory of your own with --root`);
  }
  if (st.uid !== euid || (st.mode & 0o022) !== 0) {
    throw new StateRootError(
      'bad_config',
      `state root "${dir}" is owned by uid ${st.uid} with mode ${(st.mode & 0o7777).toString(8)}: without root, runts only uses a state root of your own that no one else may write (chmod 700 it, or pass --root <dir>)`,
    );
  }
}
