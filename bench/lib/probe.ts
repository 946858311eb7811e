import fs from 'node:fs';
import path from 'node:path';

/**
 * A stand-in runtime binary for one untimed probe run: a /bin/sh script that appends its arguments (tab-separated,
 * one line per call, written with a single printf so concurrent calls do not interleave) to `log`, then execs
 * `real` with them unchanged. Returns the script's path.
 */
export function writeProbe(dir: string, name: string, real: string): { bin: string; log: string } {
  fs.mkdirSync(dir, { recursive: true });
  const bin = path.join(dir, name);
  const log = path.join(dir, `${name}.argv`);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  fs.writeFileSync(bin, `#!/bin/sh\nline=$(printf '%s\\t' "$@")\nprintf '%s\\n' "$line" >> ${q(log)}\nexec ${q(real)} "$@"\n`, { mode: 0o755 });
  fs.writeFileSync(log, '');
  return { bin, log };
}

/** The calls a probe log holds: one argv (without argv[0]) per line. */
export function parseProbeLog(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.replace(/\t$/, '').split('\t'));
}

/** runc's global options that take a value (the next argument) when written without `=`. */
const GLOBAL_WITH_VALUE = new Set(['--root', '--log', '--log-format', '--criu', '--rootless']);

/** What one call did, without the values that change every run: the command word and its option names, e.g. `delete --force`. */
export interface Call {
  command: string;
  /** The global --root, when given. */
  root?: string;
  /** The command's own options (names only, in order). */
  flags: string[];
}

export function describeCall(argv: readonly string[]): Call {
  let root: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) break;
    if (a.startsWith('--root=')) root = a.slice('--root='.length);
    else if (GLOBAL_WITH_VALUE.has(a)) {
      if (a === '--root') root = argv[i + 1];
      i++;
    }
  }
  const command = argv[i] ?? '(none)';
  const flags = argv.slice(i + 1).filter((a) => a.startsWith('-')).map((a) => a.replace(/=.*/, ''));
  return { command, root, flags };
}

/**
 * One line for the report: how many calls, each as its command and option names, and the --root they named.
 * @example summarizeCalls([['--root', '/r', 'start', 'x']]) // '1 call: start (--root /r)'
 */
export function summarizeCalls(calls: readonly (readonly string[])[]): string {
  const described = calls.map(describeCall);
  const list = described.map((c) => [c.command, ...c.flags].join(' ')).join(', ');
  const roots = [...new Set(described.map((c) => c.root ?? 'none (the default)'))];
  return `${calls.length} call${calls.length === 1 ? '' : 's'}: ${list} (--root ${roots.join(' / ')})`;
}
