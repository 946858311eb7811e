/**
 * Container IDs. An ID names a directory and an LMDB key and appears in cgroup paths, so it is kept to a
 * safe alphabet: ASCII letters, digits, _ + - . (runc's rule), never "." or "..", at most 255 characters (one
 * directory name: `<root>/<id>` and the cgroup directories are named by it).
 *
 * How a command names its container is decided here once (`resolveContainerId`): see `IdUse`.
 */
import { RuntsError } from '../errors.js';

/** A container ID runts refuses (code bad_config). */
export class IdError extends RuntsError {}

/** The allowed alphabet. Without the `u` flag, \w is ASCII-only: [A-Za-z0-9_]. */
export const ID_PATTERN = /^[\w+\-.]+$/;

/** Longest accepted ID: NAME_MAX, the longest directory name (the alphabet is ASCII, so characters are bytes). */
export const MAX_ID_LENGTH = 255;

/** The ID as shown in messages: JSON-escaped (a NUL or newline stays visible) and cut at 64 characters. */
function shown(id: string): string {
  const q = JSON.stringify(id);
  return q.length > 64 ? `${q.slice(0, 64)}…` : q;
}

/**
 * Throws an `IdError` unless `id` is a valid container ID; returns it otherwise.
 *
 * @example
 * validateId('web-1');   // 'web-1'
 * validateId('../etc');  // throws: invalid container id "../etc": use letters, digits, _ + - . only
 */
export function validateId(id: string): string {
  if (typeof id !== 'string') {
    throw new IdError('bad_config', `invalid container id (got ${id === null ? 'null' : typeof id}): use letters, digits, _ + - . only`);
  }
  if (id.length > MAX_ID_LENGTH) {
    throw new IdError('bad_config', `invalid container id ${shown(id)} (${id.length} characters): use at most ${MAX_ID_LENGTH} (it names a directory)`);
  }
  if (id === '.' || id === '..') {
    throw new IdError('bad_config', `invalid container id ${shown(id)}: "." and ".." are not allowed, use letters, digits, _ + - .`);
  }
  if (!ID_PATTERN.test(id)) {
    throw new IdError('bad_config', `invalid container id ${shown(id)}: use letters, digits, _ + - . only`);
  }
  return id;
}

/** True when `id` is a valid container ID (no throw). */
export function isValidId(id: string): boolean {
  return typeof id === 'string' && id.length <= MAX_ID_LENGTH && id !== '.' && id !== '..' && ID_PATTERN.test(id);
}

/**
 * How a command names its container — the one rule, used by the CLI, the `Runtime` API and the supervisor alike:
 * - `read`: commands that only look (state, ps, stats/events, history, cp out of a container) accept an
 *   abbreviated ID, the only ID starting with it (an exact match always wins);
 * - `change`: commands that change or destroy a container (start, kill, delete, pause, resume, update, exec, cp
 *   into a container) act only on the exact ID. Container managers repeat `delete --force <id>` routinely: were
 *   prefixes accepted, the repeat would destroy another container whose ID starts with it.
 */
export type IdUse = 'read' | 'change';

/** What resolving needs of the store: an exact match, else the only ID starting with `partial` (or a throw). */
export interface IdIndex {
  resolveId(partial: string): string;
}

/**
 * The full ID of the container `id` names for this use (see `IdUse`).
 * @throws IdError `not_found` ('container "<id>" does not exist'), `bad_config` for an invalid ID, or the store's
 * `ambiguous` for a read whose abbreviation matches several.
 */
export function resolveContainerId(index: IdIndex, id: string, use: IdUse): string {
  validateId(id);
  let full: string;
  try {
    full = index.resolveId(id);
  } catch (e) {
    // A change never matches a prefix, so several containers starting with the ID are no ambiguity for it.
    if (use === 'read' && (e as RuntsError).code !== 'not_found') throw e;
    throw notFound(id);
  }
  if (use === 'change' && full !== id) throw notFound(id);
  return full;
}

function notFound(id: string): IdError {
  return new IdError('not_found', `container "${id}" does not exist`);
}
