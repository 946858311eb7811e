/**
 * The error codes every runts error carries (ENOENT-like, stable for callers and the JSON log).
 * - not_found: no container / file with that name
 * - exists: the ID is taken
 * - bad_state: the operation is not allowed in the container's current state
 * - conflict: another runts process changed the container's record between our read and our write (a lost
 *   compare-and-set): read it again and retry
 * - bad_config: the bundle, config.json or a flag is wrong
 * - ambiguous: an abbreviated ID matches several containers
 * - sys: a system call or the kernel refused
 */
export type ErrorCode = 'not_found' | 'exists' | 'bad_state' | 'conflict' | 'bad_config' | 'ambiguous' | 'sys';

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

/**
 * A process plan runts cannot build or carry: a config value it refuses (unknown capability, a mount it must not
 * make, a value with a NUL byte) or a malformed plan buffer. Raised by the plan builders (src/linux/plan-*.ts) and the
 * plan encoder (src/native/plan.ts) alike.
 */
export class PlanError extends RuntsError {}

/** A signal runts cannot name (bad_config), or one it cannot deliver (bad_state: the init is gone). */
export class SignalError extends RuntsError {}
