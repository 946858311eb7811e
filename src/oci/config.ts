/**
 * Loading an OCI bundle: find it, read and parse config.json, validate it, locate the rootfs.
 * Every failure is a `ConfigError` with a one-line message naming the thing and the fix.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import { jsonErrorOffset, lineColumn } from './json-position.js';
import type { Spec } from './types.js';
import { quote, validateSpec } from './validate.js';

export { ConfigError } from './config-error.js';
export { validateProcess, validateSpec } from './validate.js';

/** A loaded bundle: everything `create` needs from disk. */
export interface Bundle {
  /** Absolute, symlink-free path of the bundle directory. */
  bundle: string;
  /** The validated config.json. */
  config: Spec;
  /** Absolute, symlink-free path of the root filesystem (root.path resolved against the bundle). */
  rootfs: string;
}

/** statSync that cannot throw (the path may vanish between realpath and stat). */
function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function errnoOf(e: unknown): string {
  return (e as NodeJS.ErrnoException | undefined)?.code ?? 'EIO';
}

/** "EACCES: permission denied" from a Node fs error, without the repeated path. */
function reason(e: unknown): string {
  const code = errnoOf(e);
  const msg = e instanceof Error ? e.message : String(e);
  const m = /^[A-Z]+: ([^,]+)/.exec(msg);
  return m ? `${code}: ${m[1]}` : code;
}

/** V8's message, one line, without its own "at position N" (we give line and column instead). */
function parseDetail(e: unknown): string {
  const msg = (e instanceof Error ? e.message : String(e)).replace(/ in JSON at position \d+.*$/s, '').replace(/\s+/g, ' ');
  return msg.length > 120 ? `${msg.slice(0, 120)}…` : msg;
}

/**
 * Parses config.json text; a syntax error becomes a ConfigError naming the line and column.
 * Exported for `exec --process` files (pass `what` = the file's name).
 *
 * @example
 * parseJsonFile('{"a": }', 'config.json in "/b"') // throws: config.json in "/b": invalid JSON at line 1 column 7: ...
 */
export function parseJsonFile(text: string, what: string): unknown {
  // A UTF-8 byte order mark is invisible in editors; tolerate it instead of reporting column 1.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (e) {
    const offset = jsonErrorOffset(body);
    const at = offset >= 0 ? lineColumn(body, offset) : undefined;
    const where = at ? ` at line ${at.line} column ${at.column}` : '';
    throw new ConfigError('bad_config', `${what}: invalid JSON${where}: ${parseDetail(e)}`, { cause: e });
  }
}

/**
 * Loads and validates the bundle in `bundleDir` (relative paths resolve against the current directory).
 *
 * @throws ConfigError `not_found` when the bundle, its config.json or its rootfs is missing; `bad_config`
 *   when anything is unreadable or invalid.
 * @example
 * const { bundle, config, rootfs } = loadBundle('/srv/bundles/web');
 */
export function loadBundle(bundleDir: string): Bundle {
  const asked = resolve(bundleDir);
  const hint = 'pass --bundle with a directory holding config.json';
  let bundle: string;
  try {
    bundle = realpathSync.native(asked); // libc realpath: Node's own lstats each component from JS
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') throw new ConfigError('not_found', `bundle ${quote(asked)} does not exist: ${hint}`, { cause: e });
    throw new ConfigError('bad_config', `bundle ${quote(asked)} cannot be opened (${reason(e)}): ${hint}`, { cause: e });
  }
  if (!isDirectory(bundle)) {
    throw new ConfigError('bad_config', `bundle ${quote(bundle)} is not a directory: ${hint}`);
  }

  const configPath = resolve(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') {
      throw new ConfigError('not_found', `bundle ${quote(bundle)} has no config.json: run "runts spec" there or ${hint}`, { cause: e });
    }
    throw new ConfigError('bad_config', `config.json in ${quote(bundle)} cannot be read (${reason(e)}): fix its permissions or type`, { cause: e });
  }
  const config = validateSpec(parseJsonFile(text, `config.json in ${quote(bundle)}`), 'config.json');

  // validateSpec guarantees root.path is a non-empty string.
  const rootPath = config.root!.path;
  let rootfs: string;
  try {
    rootfs = realpathSync.native(resolve(bundle, rootPath));
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') {
      throw new ConfigError('not_found', `config.json: root.path ${quote(rootPath)} does not exist in bundle ${quote(bundle)}: create it or fix root.path`, { cause: e });
    }
    throw new ConfigError('bad_config', `config.json: root.path ${quote(rootPath)} cannot be opened in bundle ${quote(bundle)} (${reason(e)}): fix root.path`, { cause: e });
  }
  if (!isDirectory(rootfs)) {
    throw new ConfigError('bad_config', `config.json: root.path ${quote(rootPath)} is not a directory in bundle ${quote(bundle)}: point it at the root filesystem`);
  }
  return { bundle, config, rootfs };
}
