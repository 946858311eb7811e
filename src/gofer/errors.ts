import { RuntsError, type ErrorCode } from '../errors.js';

/**
 * Errors of the gofer (src/gofer/*): a refused or missing path inside a container, a gofer that is not
 * running, a mount list that cannot be encoded. The message names the path or container and the fix.
 *
 * @example
 * try { await goferRead(root, id, '../../etc/shadow'); }
 * catch (e) { if (e instanceof GoferError && e.code === 'bad_config') console.error(e.message); }
 */
export class GoferError extends RuntsError {
  /**
   * Set when the gofer refused what a path leads to: why, in words ("it is on procfs", "it is a fifo"), for callers
   * that word their own message (`runts cp`).
   */
  readonly why?: string;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; why?: string }) {
    super(code, message, options);
    this.why = options?.why;
  }
}
