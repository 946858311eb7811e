import { RuntsError, type ErrorCode } from '../../errors.js';

/** Every error the cgroup module raises on purpose. */
export class CgroupError extends RuntsError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
