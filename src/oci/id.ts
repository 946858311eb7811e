/**
 * Container IDs. An ID names a directory and an LMDB key and appears in cgroup paths, so it is kept to a
 * safe alphabet: ASCII letters, digits, _ + - . (runc's rule), never "." or "..", at most 1024 characters.
 */
import { RuntsError } from '../errors.js';

/** A container ID runts refuses (code bad_config). */
export class IdError extends RuntsError {}

/** The allowed alphabet. Without the `u` flag, \w is ASCII-only: [A-Za-z0-9_]. */
export const ID_PATTERN = /^[\w+\-.]+$/;

/** Longest accepted ID. */
export const MAX_ID_LENGTH = 1024;

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
    throw new IdError('bad_config', `invalid container id ${shown(id)} (${id.length} characters): use at most ${MAX_ID_LENGTH}`);
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
