/**
 * Where a CLI command's output, exit status, environment and working directory come from. A command run by the
 * `runts` process itself uses its own (fds 1 and 2, process.exitCode, process.env, process.cwd()); a command the
 * native front hands to a warm runts host (src/supervisor/front-host.ts) runs inside the host's process with the
 * caller's: its fds (received over the socket), its environment and cwd, and an exit status of its own. Several
 * such commands may run at once, so the caller's context follows each one through its awaits (AsyncLocalStorage).
 * Without a host nothing here loads async_hooks: the cold CLI pays nothing.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';
import type { RuntimeApi } from './operations/types.js';

export interface CallerContext {
  /** The caller's fds 0, 1, 2 (received with SCM_RIGHTS). */
  fds: [number, number, number];
  /** The variables of the caller's environment that runts reads (RUNTS_*). */
  env: Record<string, string>;
  cwd: string;
  /** The command's exit status (what process.exitCode is to a CLI process). */
  exitCode: number;
  /** fds the command opened that the CLI process would have closed by exiting (its --log file). */
  opened: number[];
  /** The host's warm Runtime as this command sees it (its logger, its environment); close() leaves it open. */
  runtime: (log: Logger) => RuntimeApi;
}

let storage: AsyncLocalStorage<CallerContext> | undefined;

/** Called once by the host: from then on, a command run through runInCaller() sees the caller's context. */
export function enableCallerContexts(als: AsyncLocalStorage<CallerContext>): void {
  storage = als;
}

/** Runs `fn` (a whole CLI command) in `ctx`. */
export function runInCaller<T>(ctx: CallerContext, fn: () => T): T {
  if (!storage) throw new Error('caller contexts are not enabled in this process');
  return storage.run(ctx, fn);
}

/** The context of the command running now, when it was handed over by the front. */
export function callerContext(): CallerContext | undefined {
  return storage?.getStore();
}

/** The command's stdout / stderr / stdin fd. */
export function stdoutFd(): number {
  return callerContext()?.fds[1] ?? 1;
}
export function stderrFd(): number {
  return callerContext()?.fds[2] ?? 2;
}
export function stdinFd(): number {
  return callerContext()?.fds[0] ?? 0;
}

/** Sets the command's exit status. */
export function setExitCode(code: number): void {
  const ctx = callerContext();
  if (ctx) ctx.exitCode = code;
  else process.exitCode = code;
}

/** A variable of the command's environment. */
export function callerEnv(name: string): string | undefined {
  const ctx = callerContext();
  return ctx ? ctx.env[name] : process.env[name];
}

/** Records an fd the command opened and a CLI process would have closed by exiting. */
export function openedByCommand(fd: number): void {
  callerContext()?.opened.push(fd);
}

/** Runs one command line as the CLI does (src/cli-main.ts's main, registered by that module when it loads). */
export type CommandRunner = (argv: string[], inHost: boolean) => Promise<void>;
let runner: CommandRunner | undefined;

/** Called by src/cli-main.ts: a host can then run command lines without importing the CLI (no import circle). */
export function setCommandRunner(run: CommandRunner): void {
  runner = run;
}

/** The CLI's runner, when this process has the CLI loaded (a `runts supervise`; not an embedding program). */
export function commandRunner(): CommandRunner | undefined {
  return runner;
}
