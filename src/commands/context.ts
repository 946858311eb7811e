import type { Command } from 'commander';
import type { Logger } from 'pino';
import type { RuntimeApi } from '../operations/types.js';
import type { Runtime } from '../runtime.js';
import { printErr } from './output.js';
import { defaultStateRoot } from '../state-root.js';
import { callerContext, setExitCode } from '../cli-io.js';

export interface GlobalOptions {
  /** --root; when absent, defaultStateRoot() (src/state-root.ts). */
  root?: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug?: boolean;
}

/**
 * Opens the runtime for one command, runs `fn`, closes it, and turns a failure into runc's behaviour: one line on
 * stderr, the same message as the last `error` line of the log (containerd shows that line), exit status 1 (or
 * `failureStatus`). With `local`, `fn` gets a Runtime of this process, never forwarded (the resident host and the
 * visualizer are one); otherwise calls may go to the root's supervisor (src/supervisor/client.ts).
 */
export async function withRuntime<T>(
  cmd: Command,
  fn: (rt: Runtime, log: Logger) => Promise<T>,
  opts: { local: true; root?: string; failureStatus?: number },
): Promise<T | undefined>;
export async function withRuntime<T>(
  cmd: Command,
  fn: (rt: RuntimeApi, log: Logger) => Promise<T>,
  opts?: { root?: string; failureStatus?: number },
): Promise<T | undefined>;
export async function withRuntime<T>(
  cmd: Command,
  fn: (rt: Runtime, log: Logger) => Promise<T>,
  opts: {
    local?: boolean;
    root?: string;
    /** The exit status of a failure (runc's `exec` fails with 255, the other commands with 1). */
    failureStatus?: number;
  } = {},
): Promise<T | undefined> {
  const globals = cmd.optsWithGlobals() as GlobalOptions;
  const { createLogger } = await import('../log.js');
  const log = createLogger({ file: globals.log, format: globals.logFormat, debug: globals.debug });
  let rt: Runtime | RuntimeApi | undefined;
  try {
    const root = opts.root ?? globals.root ?? defaultStateRoot();
    const caller = callerContext();
    if (caller && !opts.local) {
      // Handed over by the front to a warm host: its open Runtime, seen through this command's logger.
      rt = caller.runtime(log);
    } else if (opts.local) {
      const { Runtime } = await import('../runtime.js');
      rt = await Runtime.open({ root, log, keepInitReady: false });
    } else {
      // With a supervisor answering on <root>/supervisor.sock, calls are forwarded to it (src/supervisor/client.ts).
      const { openRuntime } = await import('../supervisor/client.js');
      rt = await openRuntime({ root, log, keepInitReady: false });
    }
    return await fn(rt as Runtime, log);
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    log.error(msg);
    printErr(`runts: ${msg}\n`);
    if (globals.debug && !(e as { code?: string }).code) printErr(`${(e as Error).stack}\n`);
    setExitCode(opts.failureStatus ?? 1);
    return undefined;
  } finally {
    await rt?.close();
  }
}
