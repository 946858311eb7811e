import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BenchError } from './errors.js';
import type { RuntimeName } from './report.js';
import { elapsedMs } from './stats.js';

/** How to invoke one runtime: its command line prefix and its private state root. */
export interface RuntimeSpec {
  name: RuntimeName;
  /** Executable (absolute path) and any fixed leading arguments. */
  exe: string;
  /** Passed as `--root` before every command, so each runtime keeps its own state. */
  root: string;
  /** Append-only file that receives the runtime's stderr (and its containers' stderr). */
  errLog: string;
}

/** Result of one timed command. */
export interface Timed {
  ms: number;
  status: number | null;
  signal: NodeJS.Signals | null;
  /** Only when `capture` was asked for (never for create/run: the container would inherit the pipe). */
  stdout: string;
}

/** Finds an executable on PATH (like `command -v`), or throws naming the package to install. */
export function which(cmd: string, hint: string): string {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not in this directory
    }
  }
  throw new BenchError('not_found', `${cmd} not found on PATH; install it: ${hint}`);
}

/** The argv for `<runtime> --root R <args…>`. */
export function argvOf(rt: RuntimeSpec, args: readonly string[]): string[] {
  return ['--root', rt.root, ...args];
}

/** Printable form of a command, for error messages and the report. */
export function showCommand(exe: string, args: readonly string[]): string {
  return [exe, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The last lines of a stderr file, joined with ' / ', for one-line error messages. */
export function tail(file: string, lines = 4): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join(' / ');
  } catch {
    return '(no stderr captured)';
  }
}

/**
 * Runs one command synchronously and times it (wall clock, hrtime). stdin is /dev/null; stdout is /dev/null unless
 * `capture` (a pipe: only for commands that do not start container processes); stderr goes to an append-only file
 * — never a pipe, because a container started by create/run inherits it and would hold the pipe open. `timeoutMs`:
 * SIGKILL the command after that long (its result then has signal SIGKILL).
 */
export function timeSync(exe: string, args: readonly string[], errLog: string, capture = false, env?: NodeJS.ProcessEnv, timeoutMs?: number): Timed {
  const errFd = fs.openSync(errLog, 'a');
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(exe, args, { stdio: ['ignore', capture ? 'pipe' : 'ignore', errFd], encoding: 'utf8', maxBuffer: 64 << 20, env, timeout: timeoutMs, killSignal: 'SIGKILL' });
    const t1 = process.hrtime.bigint();
    if (r.error && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') {
      throw new BenchError('sys', `cannot run ${showCommand(exe, args)}: ${r.error.message}`, { cause: r.error });
    }
    return { ms: elapsedMs(t0, t1), status: r.status, signal: r.signal, stdout: capture ? r.stdout : '' };
  } finally {
    fs.closeSync(errFd);
  }
}

/** Like {@link timeSync} but asynchronous, for creating/deleting containers several at a time. */
export function timeAsync(exe: string, args: readonly string[], errLog: string): Promise<Timed> {
  const errFd = fs.openSync(errLog, 'a');
  const t0 = process.hrtime.bigint();
  return new Promise<Timed>((resolve, reject) => {
    const child = spawn(exe, args, { stdio: ['ignore', 'ignore', errFd] });
    child.once('error', (e) => reject(new BenchError('sys', `cannot run ${showCommand(exe, args)}: ${e.message}`, { cause: e })));
    // 'exit', not 'close': with no pipes there is nothing to drain, and the container may keep the stderr file open.
    child.once('exit', (status, signal) => resolve({ ms: elapsedMs(t0, process.hrtime.bigint()), status, signal, stdout: '' }));
  }).finally(() => fs.closeSync(errFd));
}

/** Runs `<runtime> --root R <args>` and times it. */
export function rtSync(rt: RuntimeSpec, args: readonly string[], capture = false): Timed {
  return timeSync(rt.exe, argvOf(rt, args), rt.errLog, capture);
}

/** Runs `<runtime> --root R <args>` asynchronously and times it. */
export function rtAsync(rt: RuntimeSpec, args: readonly string[]): Promise<Timed> {
  return timeAsync(rt.exe, argvOf(rt, args), rt.errLog);
}

/** Throws a one-line error naming the command and the last lines of the runtime's stderr unless it exited 0. */
export function mustSucceed(rt: RuntimeSpec, args: readonly string[], r: Timed): Timed {
  if (r.status === 0) return r;
  const how = r.signal ? `was killed by ${r.signal}` : `exited ${r.status}`;
  throw new BenchError('sys', `${rt.name}: \`${showCommand(rt.exe, argvOf(rt, args))}\` ${how}; stderr: ${tail(rt.errLog)}; see ${rt.errLog}`);
}
