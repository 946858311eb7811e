import { appendFileSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import { openedByCommand, stderrFd } from './cli-io.js';

export type LogFormat = 'text' | 'json';

export interface LogOptions {
  /** File to append log lines to (containerd passes <task dir>/log.json). Without it, only --debug logs reach stderr. */
  file?: string;
  format?: LogFormat;
  debug?: boolean;
}

/**
 * The runtime's logger. With `--log-format json` every line is one JSON object with a string `level`, `msg` and
 * an ISO `time`: containerd's shim reads the last `error` line of that file and shows its `msg` to the user, so
 * the shape matters more than anything else here. Writes are synchronous: a CLI process exits right after its
 * last line and must not lose it.
 */
export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.debug ? 'debug' : 'info';
  const fd = opts.file ? openSync(opts.file, 'a', 0o600) : opts.debug ? stderrFd() : -1;
  if (fd < 0) return silentLogger();
  if (opts.file) openedByCommand(fd);
  // Loaded only when something is logged: most commands log nothing and need not load pino (with sonic-boom).
  const { pino } = createRequire(import.meta.url)('pino') as typeof import('pino');
  const stream =
    opts.format === 'json'
      ? pino.destination({ fd, sync: true })
      : { write: (line: string) => appendFileSync(fd, textLine(line)) };
  return pino(
    {
      level,
      base: undefined,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}

/** logrus-style text (what runc writes without --log-format json): time="…" level=… msg="…" key=value… */
function textLine(jsonLine: string): string {
  const { time, level, msg, ...rest } = JSON.parse(jsonLine) as Record<string, unknown>;
  const fields = Object.entries(rest).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return [`time=${JSON.stringify(time)}`, `level=${level}`, `msg=${JSON.stringify(msg ?? '')}`, ...fields].join(' ') + '\n';
}

const noop = (): void => {};

/**
 * A logger that drops everything, without loading pino: what a command gets without --log or --debug (the common,
 * latency-sensitive case). It has the Logger methods runts calls; `child` returns itself.
 */
export function silentLogger(): Logger {
  const log = {
    level: 'silent',
    fatal: noop,
    error: noop,
    warn: noop,
    info: noop,
    debug: noop,
    trace: noop,
    silent: noop,
    isLevelEnabled: () => false,
    child: () => log,
    flush: noop,
  };
  return log as unknown as Logger;
}
