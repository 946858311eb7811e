/**
 * The error codes every runts error carries (ENOENT-like, stable for callers and the JSON log).
 * - not_found: no container / file with that name
 * - exists: the ID is taken
 * - bad_state: the operation is not allowed in the container's current state
 * - bad_config: the bundle, config.json or a flag is wrong
 * - ambiguous: an abbreviated ID matches several containers
 * - sys: a system call or the kernel refused
 */
export type ErrorCode = 'not_found' | 'exists' | 'bad_state' | 'bad_config' | 'ambiguous' | 'sys';

/** Base of every error runts raises on purpose. Each module subclasses it (one class per module). */
export class RuntsError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** True for errors made on purpose (user-facing), false for bugs. */
export function isRuntsError(e: unknown): e is RuntsError {
  return e instanceof RuntsError;
}
