/**
 * Running OCI hooks (config.json `hooks`). Each hook is a program started with exactly its own argv and
 * environment, the container's state JSON on stdin, and an optional timeout. The caller decides *when* a
 * point runs and in which namespace (see `RunHooksOptions.nsenterPid`); this module only runs programs.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLONE, PlanBuilder } from '../native/plan.js';
import { RuntsError } from '../errors.js';
import type { HOOK_POINTS } from './constants.js';
import type { Hook, State } from './types.js';
import { findSystemBinary } from '../linux/system-binary.js';

/** A hook point of the OCI runtime spec, in lifecycle order: see HOOK_POINTS. */
export type HookPoint = (typeof HOOK_POINTS)[number];

/** A hook failed to start, exited non-zero, was killed, or timed out (code sys). */
export class HookError extends RuntsError {}

/** The bit of a pino logger hooks use. */
export interface HookLogger {
  debug(obj: object, msg?: string): void;
}

export interface RunHooksOptions {
  log?: HookLogger;
  /**
   * Run each hook inside the mount namespace of this process (the container's init), through
   * `nsenter --target <pid> --mount -- <path> <args[1..]>`, so `path` resolves in the container's view of the
   * filesystem. This is for createContainer and startContainer, which the spec runs "in the container
   * namespace". Two differences follow from how setns and nsenter work: the hook's working directory is the
   * root of that mount namespace (setns(CLONE_NEWNS) moves it there), not the bundle; and argv0 is `path`
   * (nsenter execs it directly, so a custom args[0] is lost).
   */
  nsenterPid?: number;
  /**
   * With `nsenterPid`: join the init's user namespace first (`nsenter --user --preserve-credentials`: the caller is
   * its root already, and setgroups may be denied there). A
   * container made without root needs it: only inside its user namespace may the user enter its mount namespace.
   */
  nsenterUser?: boolean;
  /** nsenter binary; default: the first of /usr/bin/nsenter, /bin/nsenter, /usr/sbin/nsenter, /sbin/nsenter. */
  nsenterPath?: string;
  /**
   * With `nsenterPid`: the container's compiled seccomp filter (src/linux/seccomp.ts), in force in the hook, as in
   * runc, whose init runs startContainer hooks after it installed the filter. The hook is then started by
   * runts-init instead of nsenter: a plan joins the mount namespace, installs the filter and execs the hook.
   */
  seccomp?: Buffer;
}

/** How much of each output stream is kept, and how much of it goes into an error message. */
const KEEP_BYTES = 4096;
const TAIL_CHARS = 200;
/** After the hook exits, how long to wait for its pipes to close (a daemon it started may hold them). */
const CLOSE_GRACE_MS = 100;

function findNsenter(): string {
  return findSystemBinary('nsenter') ?? 'nsenter';
}

/** "KEY=value" list → env object. Nothing is inherited from runts: the spec gives the hook this env only. */
function envObject(env: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of env) {
    const eq = entry.indexOf('=');
    if (eq > 0) out[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return out;
}

/** Keeps the last KEEP_BYTES of a stream. */
class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.size - this.chunks[0].length >= KEEP_BYTES) this.size -= this.chunks.shift()!.length;
  }
  /** The last TAIL_CHARS characters, on one line. */
  text(): string {
    const s = Buffer.concat(this.chunks).toString('utf8').replace(/\s+/g, ' ').trim();
    return s.length > TAIL_CHARS ? `…${s.slice(-TAIL_CHARS)}` : s;
  }
}

function killGroup(child: ChildProcess): void {
  // The hook leads its own process group (detached), so this also reaches whatever it started,
  // e.g. the `sleep` of a shell script: otherwise a timed-out script would leave it running.
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

const INIT_BINARY = fileURLToPath(new URL('../../build/Release/runts-init', import.meta.url));

/**
 * The plan runts-init runs to start a hook in the container under its seccomp filter, in a file whose fd is returned
 * (runts-init reads its plan with pread). `ready` first: any later failure (a missing hook, a filter that forbids
 * execve) is written to the hook's stderr, which the error then quotes.
 */
function filteredHookPlan(hook: Hook, argv: string[], pid: number, bpf: Buffer, user: boolean): number {
  const plan = new PlanBuilder().ready();
  if (user) plan.setns(`/proc/${pid}/ns/user`, CLONE.NEWUSER);
  plan
    .setns(`/proc/${pid}/ns/mnt`, CLONE.NEWNS)
    .seccomp(bpf)
    .closeFds(3)
    .exec(hook.path, argv, hook.env ?? []);
  const file = join(tmpdir(), `runts-hook-${process.pid}-${randomBytes(6).toString('hex')}`);
  writeFileSync(file, plan.encode(), { mode: 0o600, flag: 'wx' });
  try {
    return openSync(file, 'r');
  } finally {
    unlinkSync(file);
  }
}

function runHook(point: HookPoint, hook: Hook, state: State, opts: RunHooksOptions): Promise<void> {
  const argv = hook.args && hook.args.length > 0 ? hook.args : [hook.path];
  let file = hook.path;
  let args = argv.slice(1);
  let argv0 = argv[0];
  let planFd: number | undefined;
  if (opts.nsenterPid !== undefined && opts.seccomp !== undefined) {
    planFd = filteredHookPlan(hook, argv, opts.nsenterPid, opts.seccomp, opts.nsenterUser === true);
    // runts-init <socket fd> <plan fd>: fd 3 is a socket (a stdio 'pipe' of Node is a socketpair), fd 4 the plan.
    file = INIT_BINARY;
    args = ['3', '4'];
    argv0 = 'runts-init';
  } else if (opts.nsenterPid !== undefined) {
    file = opts.nsenterPath ?? findNsenter();
    args = ['--target', String(opts.nsenterPid), ...(opts.nsenterUser ? ['--user', '--preserve-credentials'] : []), '--mount', '--', hook.path, ...argv.slice(1)];
    argv0 = file;
  }
  const what = `${point} hook ${hook.path}`;
  const timeout = hook.timeout;
  const started = Date.now();
  opts.log?.debug({ point, path: hook.path, args: argv, timeout, nsenterPid: opts.nsenterPid }, 'running hook');

  return new Promise<void>((resolvePromise, rejectPromise) => {
    let child: ChildProcess;
    try {
      // Loaded here, not at the top: most commands run no hook and child_process costs every command start-up.
      child = process.getBuiltinModule('node:child_process').spawn(file, args, {
        argv0,
        env: envObject(hook.env ?? []),
        cwd: state.bundle,
        stdio: planFd === undefined ? ['pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe', 'pipe', planFd],
        detached: true,
      });
    } catch (e) {
      if (planFd !== undefined) closeSync(planFd);
      // spawn throws synchronously on arguments it cannot pass (a NUL byte, say).
      rejectPromise(new HookError('sys', `${what} failed to start: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
      return;
    }

    if (planFd !== undefined) closeSync(planFd);
    // runts-init's progress messages (its pid, ready): nothing to act on, its errors after `ready` go to stderr.
    (child.stdio[3] as NodeJS.ReadableStream | null)?.on('data', () => {});
    (child.stdio[3] as NodeJS.ReadableStream | null)?.on('error', () => {});
    const out = new Tail();
    const err = new Tail();
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    // A hook that never reads stdin may exit before we finish writing: that EPIPE is not its failure.
    child.stdin!.on('error', () => {});
    child.stdin!.end(JSON.stringify(state));

    let timedOut = false;
    let settled = false;
    // setTimeout holds a signed 32-bit ms count; beyond ~24.8 days Node would fire at once, so clamp.
    const timer =
      timeout !== undefined
        ? setTimeout(() => {
            timedOut = true;
            killGroup(child);
          }, Math.min(timeout * 1000, 2 ** 31 - 1))
        : undefined;

    const settle = (error?: HookError): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      child.stdout!.destroy();
      child.stderr!.destroy();
      opts.log?.debug({ point, path: hook.path, ms: Date.now() - started, ok: !error }, 'hook finished');
      if (error) rejectPromise(error);
      else resolvePromise();
    };

    child.on('error', (e: NodeJS.ErrnoException) => {
      let why = e.code ?? e.message;
      if (e.code === 'ENOENT') {
        why = existsSync(file) ? `ENOENT: bundle directory ${state.bundle} is missing` : 'ENOENT: no such file: fix the hook path';
      } else if (e.code === 'EACCES') {
        why = 'EACCES: not executable: chmod +x it or fix the hook path';
      }
      settle(new HookError('sys', `${what} failed to start: ${why}`, { cause: e }));
    });

    child.on('exit', (code, signal) => {
      const finish = (): void => {
        const output = err.text() || out.text();
        const suffix = output ? `: ${output}` : '';
        if (timedOut) settle(new HookError('sys', `${what} timed out after ${timeout}s`));
        else if (signal) settle(new HookError('sys', `${what} failed: killed by signal ${signal}${suffix}`));
        else if (code !== 0) settle(new HookError('sys', `${what} failed: exit status ${code}${suffix}`));
        else settle();
      };
      // Let the pipes drain so the error carries the hook's last words, but do not wait for a
      // background process that inherited them.
      let closed = false;
      const grace = setTimeout(() => {
        if (!closed) finish();
      }, CLOSE_GRACE_MS);
      child.once('close', () => {
        closed = true;
        clearTimeout(grace);
        finish();
      });
    });
  });
}

/**
 * Runs `hooks` one after another; the first failure stops the run and rejects with a HookError:
 * "<point> hook <path> failed: exit status 3: <stderr tail>" or "<point> hook <path> timed out after <n>s".
 * For prestart, createRuntime, createContainer and startContainer, where a failure must abort the operation.
 *
 * @example
 * await runHooks('createRuntime', spec.hooks?.createRuntime, ociState({ id, status: 'creating', pid, bundle }));
 */
export async function runHooks(
  point: HookPoint,
  hooks: Hook[] | undefined,
  state: State,
  opts: RunHooksOptions = {},
): Promise<void> {
  for (const hook of hooks ?? []) await runHook(point, hook, state, opts);
}

/**
 * Runs every hook even when some fail, reporting each failure's message through `warn`; never throws.
 * For poststart and poststop, whose failures the spec makes warnings.
 *
 * @example
 * await runHooksBestEffort('poststop', spec.hooks?.poststop, state, (msg) => log.warn(msg));
 */
export async function runHooksBestEffort(
  point: HookPoint,
  hooks: Hook[] | undefined,
  state: State,
  warn: (msg: string) => void,
  opts: RunHooksOptions = {},
): Promise<void> {
  for (const hook of hooks ?? []) {
    try {
      await runHook(point, hook, state, opts);
    } catch (e) {
      try {
        warn(e instanceof Error ? e.message : String(e));
      } catch {
        // A broken logger must not turn a warning into a failure.
      }
    }
  }
}
