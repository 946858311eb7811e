import { RuntsError } from '../errors.js';

/**
 * A bundle or config.json (or an `exec --process` file) runts cannot use.
 * Code `not_found` when the bundle, config.json or rootfs is missing, `bad_config` otherwise.
 * The message is one line naming the file and field, and how to fix it.
 *
 * @example
 * try { loadBundle(dir) } catch (e) { if (e instanceof ConfigError) console.error(e.message) }
 */
export class ConfigError extends RuntsError {
  constructor(code: 'bad_config' | 'not_found', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
