import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { BenchError } from './errors.js';

/** Which way bin/runts ran the runts commands of a row: no host (the front execs Node), or a warm host it hands them to. */
export type RuntsVia = 'no-host' | 'warm-host';

/** The words a row's title ends with, so every row says which runts path it timed. */
export function viaLabel(via: RuntsVia): string {
  return via === 'no-host'
    ? 'runts: no host (bin/runts → Node)'
    : 'runts: warm host (bin/runts → `runts supervise --auto` started by the harness)';
}

/** `<root>/host/front.sock`: where bin/runts looks for a warm host serving `root` (src/front/front-wire.h). */
export function frontSocket(root: string): string {
  return path.join(root, 'host', 'front.sock');
}

/** True when something accepts a connection on the root's front socket (a file left by a dead host does not). */
export function hostAnswers(root: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(frontSocket(root));
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Waits (polling every 50 ms, `timeoutMs` at most) until a host answers on the root's front socket. */
export async function waitForHost(root: string, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await hostAnswers(root)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return hostAnswers(root);
}

/**
 * `runts supervise --auto` for `root` with `runtsExe`'s build (what bin/runts auto-starts), resolved once its front
 * socket answers. Started here rather than auto-started so that every timed command goes through it.
 */
export async function startHost(node: string, runtsExe: string, root: string): Promise<ChildProcess> {
  const cjs = path.join(path.dirname(runtsExe), 'runts.cjs');
  const host = spawn(node, [cjs, '--root', root, 'supervise', '--auto'], { stdio: 'ignore', env: { ...process.env, RUNTS_HOST_IDLE: '3600' } });
  if (!(await waitForHost(root, 20_000)) || host.exitCode !== null) {
    host.kill('SIGKILL');
    throw new BenchError('sys', `the warm runts host did not start for ${root} (\`node ${cjs} --root ${root} supervise --auto\`)`);
  }
  return host;
}

/** Stops a host of {@link startHost} (SIGTERM: it closes its socket) and waits for it. */
export function stopHost(host: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (host.exitCode !== null || host.signalCode !== null) return done();
    host.once('exit', () => done());
    host.kill('SIGTERM');
  });
}

/** A runts host process found in /proc: its pid and the runts.cjs it runs (which build). */
export interface HostProcess {
  pid: number;
  script: string;
}

/**
 * The `runts.cjs … --root R … supervise` in one command line (split at NULs, as /proc/<pid>/cmdline is), if it is
 * a runts host serving `root` (compared as given and resolved). Exported for the unit test.
 */
export function hostOf(argv: readonly string[], root: string): string | undefined {
  const script = argv.find((a) => a.endsWith('/runts.cjs'));
  if (!script || !argv.includes('supervise')) return undefined;
  const i = argv.indexOf('--root');
  const given = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith('--root='))?.slice('--root='.length);
  if (given === undefined) return undefined;
  const same = (a: string) => a === root || path.resolve(a) === path.resolve(root);
  return same(given) ? script : undefined;
}

/** Every runts host process serving `root` on this machine (auto-started or not, of any build). */
export function hostsServing(root: string): HostProcess[] {
  const out: HostProcess[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const script = hostOf(fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0'), root);
      if (script) out.push({ pid: Number(name), script });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/**
 * SIGTERMs the hosts serving `root` that run `runtsExe`'s build (bin/runts of this run auto-started them; a host of
 * another build is not ours to stop) and waits (5 s at most) until they are gone. Returns their pids.
 */
export async function stopOwnHosts(runtsExe: string, root: string): Promise<number[]> {
  const ours = hostsServing(root).filter((h) => h.script === path.join(path.dirname(runtsExe), 'runts.cjs'));
  for (const h of ours) {
    try {
      process.kill(h.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const end = Date.now() + 5_000;
  const alive = (pid: number) => {
    try {
      return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    } catch {
      return false;
    }
  };
  while (Date.now() < end && ours.some((h) => alive(h.pid))) await new Promise((r) => setTimeout(r, 50));
  return ours.map((h) => h.pid);
}
