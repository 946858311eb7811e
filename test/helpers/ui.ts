import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

/** A running `runts ui` and the URL it serves. */
export interface UiProcess {
  child: ChildProcess;
  url: string;
}

/**
 * Starts `runts ui` on a free loopback port and resolves with its URL (from the line it prints). Its stderr is
 * appended to `errLog` when given (the benchmark keeps it), else kept for the error message.
 */
export function startUi(runts: string, root: string, errLog?: string): Promise<UiProcess> {
  const errFd = errLog === undefined ? undefined : openSync(errLog, 'a');
  const child = spawn(runts, ['--root', root, 'ui', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', errFd ?? 'pipe'] });
  if (errFd !== undefined) closeSync(errFd);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const stderr = () => (errLog === undefined ? err : `see ${errLog}`);
    const timer = setTimeout(() => reject(new Error(`runts ui printed no URL: ${out}${stderr()}`)), 15_000);
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /visualizer at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    });
    child.once('exit', (code) => reject(new Error(`runts ui exited (${code}): ${stderr()}`)));
  });
}

/** Stops it (SIGTERM, SIGKILL after 5 s) and waits for it. */
export async function stopUi(ui: { child: ChildProcess } | undefined): Promise<void> {
  if (!ui || ui.child.exitCode !== null) return;
  const gone = new Promise((r) => ui.child.once('exit', r));
  ui.child.kill('SIGTERM');
  await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
  if (ui.child.exitCode === null && ui.child.signalCode === null) ui.child.kill('SIGKILL');
}
