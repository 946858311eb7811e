import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, mkdtempSync, readdirSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { defaultSpec } from '../../src/oci/default-spec.js';
import type { Spec } from '../../src/oci/types.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const RUNTS = join(REPO, 'bin/runts');
export const isRoot = process.getuid?.() === 0;

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Test commands run without a warm host unless a test starts one (startHost): auto-start is bin/runts' default, and
 * a host appearing after a test's first command would make which path ran each command a race.
 */
export const NO_AUTOSTART = { RUNTS_AUTOSTART: '0' };

/** A scratch state root plus everything a test makes, removed by `cleanup()` even when the test failed. */
export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'runts-test-'));
  readonly root = join(this.dir, 'state');
  /** Unique per sandbox so parallel test files never share a cgroup. */
  readonly cgroupParent = `/runts-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private ids = new Set<string>();
  private seq = 0;
  private hosts: ChildProcess[] = [];

  constructor() {
    // Searchable by all: a user-namespaced container's root (an unprivileged host uid) must reach its rootfs.
    chmodSync(this.dir, 0o711);
  }

  id(name: string): string {
    const id = `${name}-${Math.random().toString(36).slice(2, 8)}`;
    this.ids.add(id);
    return id;
  }

  /** Registers an ID chosen by the test, so cleanup deletes it. */
  track(id: string): string {
    this.ids.add(id);
    return id;
  }

  untrack(id: string): void {
    this.ids.delete(id);
  }

  /** A bundle with a busybox rootfs and the default config, changed by `edit`. */
  bundle(id: string, edit: (spec: Spec) => void = () => undefined): string {
    const dir = join(this.dir, `bundle-${id}`);
    mkdirSync(dir, { recursive: true });
    const made = spawnSync(join(REPO, 'scripts/make-rootfs.sh'), [join(dir, 'rootfs')], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`make-rootfs failed: ${made.stderr}`);
    const spec = defaultSpec({});
    spec.process!.terminal = false;
    // runc's default rootfs is read-only; tests write marker files into theirs.
    spec.root!.readonly = false;
    spec.linux!.cgroupsPath = `${this.cgroupParent}/${id}`;
    edit(spec);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2));
    return dir;
  }

  /**
   * Runs runts to completion. Its stdout and stderr go to files, not pipes: a container created by the command
   * inherits them and may outlive it, and a pipe would keep the caller waiting for the container's end.
   */
  /** Another bundle over `shared`'s rootfs (a symlink), with its config copied and its own cgroup path. */
  bundleFrom(shared: string, id: string): string {
    const dir = join(this.dir, `bundle-${id}`);
    mkdirSync(dir, { recursive: true });
    const spec = JSON.parse(readFileSync(join(shared, 'config.json'), 'utf8'));
    spec.root.path = join(shared, 'rootfs');
    spec.linux.cgroupsPath = `${this.cgroupParent}/${id}`;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2));
    return dir;
  }

  runts(args: string[], opts: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Result {
    const out = join(this.dir, `out-${process.pid}-${++this.seq}`);
    const outFd = openSync(`${out}.stdout`, 'w+');
    const errFd = openSync(`${out}.stderr`, 'w+');
    try {
      const r = spawnSync(RUNTS, ['--root', this.root, ...args], {
        cwd: opts.cwd,
        env: { ...process.env, ...NO_AUTOSTART, ...opts.env },
        stdio: ['ignore', outFd, errFd],
        timeout: opts.timeoutMs ?? 30_000,
      });
      return { status: r.status, signal: r.signal, stdout: readFileSync(`${out}.stdout`, 'utf8'), stderr: readFileSync(`${out}.stderr`, 'utf8') };
    } finally {
      closeSync(outFd);
      closeSync(errFd);
      rmSync(`${out}.stdout`, { force: true });
      rmSync(`${out}.stderr`, { force: true });
    }
  }

  /** Asynchronous variant, for concurrent commands (output through files too, for the same reason). */
  runtsAsync(args: string[], opts: { killAfterMs?: number; keepChild: true }): { child: Promise<ChildProcess>; result: Promise<Result> };
  runtsAsync(args: string[], opts?: { killAfterMs?: number }): Promise<Result>;
  runtsAsync(args: string[], opts: { killAfterMs?: number; keepChild?: boolean } = {}): Promise<Result> | { child: Promise<ChildProcess>; result: Promise<Result> } {
    const out = join(this.dir, `out-${process.pid}-${++this.seq}`);
    const outFd = openSync(`${out}.stdout`, 'w+');
    const errFd = openSync(`${out}.stderr`, 'w+');
    const child = spawn(RUNTS, ['--root', this.root, ...args], { stdio: ['ignore', outFd, errFd], env: { ...process.env, ...NO_AUTOSTART } });
    // Random-time SIGKILL of the runts process itself (crash tests).
    const timer = opts.killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs);
    const result = new Promise<Result>((done) =>
      child.once('exit', (status, signal) => {
        clearTimeout(timer);
        const r = { status, signal, stdout: readFileSync(`${out}.stdout`, 'utf8'), stderr: readFileSync(`${out}.stderr`, 'utf8') };
        closeSync(outFd);
        closeSync(errFd);
        rmSync(`${out}.stdout`, { force: true });
        rmSync(`${out}.stderr`, { force: true });
        done(r);
      }),
    );
    return opts.keepChild ? { child: Promise.resolve(child), result } : result;
  }

  state(id: string): { status: string; pid: number } & Record<string, unknown> {
    const r = this.runts(['state', id]);
    if (r.status !== 0) throw new Error(`state ${id} failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  /**
   * Starts a warm host for this root (`runts supervise --auto`, as bin/runts auto-starts it) and resolves with it once its front socket answers: from then on the commands that a host serves run in it. `env` is the host's.
   */
  async startHost(env: Record<string, string> = {}): Promise<ChildProcess> {
    await this.stopHosts(); // one host per root: a second would find the first's socket and leave
    // The store must exist first (a host never makes a root by itself being asked to list).
    if (!existsSync(join(this.root, 'runts.mdb'))) this.runts(['list']);
    const host = await startHost(this.root, env);
    this.hosts.push(host);
    return host;
  }

  /** Stops the hosts startHost() started (SIGTERM: they close their sockets) and waits for them. */
  async stopHosts(): Promise<void> {
    await Promise.all(this.hosts.splice(0).map(stopHost));
  }

  /** Force-deletes every container the test made, then removes cgroups and files. */
  cleanup(): void {
    for (const h of this.hosts) h.kill('SIGKILL');
    for (const id of this.ids) this.runts(['delete', '--force', id]);
    for (const hierarchy of cgroupHierarchies()) {
      const parent = join(hierarchy, this.cgroupParent);
      if (!existsSync(parent)) continue;
      for (const child of readdirSync(parent, { withFileTypes: true })) if (child.isDirectory()) rmdirQuiet(join(parent, child.name));
      rmdirQuiet(parent);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Gives a bundle's spec a user namespace of its own: container ids 0..65535 are host ids 100000..165535. */
export function addUserNamespace(s: Spec): void {
  s.linux!.namespaces = [...(s.linux!.namespaces ?? []), { type: 'user' }];
  s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
}

export function cgroupHierarchies(): string[] {
  const base = '/sys/fs/cgroup';
  if (!existsSync(base)) return [];
  if (existsSync(join(base, 'cgroup.controllers'))) return [base];
  return readdirSync(base, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(base, d.name));
}

function rmdirQuiet(p: string): void {
  try {
    // cgroupfs directories are removed with rmdir even though they list files.
    rmdirSync(p);
  } catch {
    // best effort: still busy or already gone
  }
}

/** Live processes (not zombies) whose root directory is `rootfs` — what a leaked container would leave. */
export function processesRootedAt(rootfs: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/root`) === rootfs) pids.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/** Waits (polling, test-only) until `check` is true or the time is up. */
export async function eventually(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

/** No record, state directory, cgroup or process remains of container `id`. */
export function assertNoLeftovers(sb: Sandbox, id: string, bundle: string): void {
  assert.equal(sb.runts(['list', '-q']).stdout.split('\n').includes(id), false, 'no record');
  assert.equal(existsSync(join(sb.root, id)), false, 'no state directory');
  for (const h of cgroupHierarchies()) assert.equal(existsSync(join(h, sb.cgroupParent, id)), false, `no cgroup in ${h}`);
  assert.deepEqual(processesRootedAt(join(bundle, 'rootfs')), [], 'no process');
}

/**
 * Starts a warm host for `root` (`runts supervise --auto`, as bin/runts auto-starts it; the root's store must exist)
 * and resolves once its front socket is there. `env` is the host's.
 */
export async function startHost(root: string, env: Record<string, string> = {}): Promise<ChildProcess> {
  const sock = join(root, 'host/front.sock');
  rmSync(sock, { force: true }); // left by a host that was killed: wait for the new one's
  // Its stderr goes to a file beside the root, so a host that fails to start says why.
  const errFile = `${root}.host-${Date.now()}.err`;
  const errFd = openSync(errFile, 'w');
  const host = spawn(process.execPath, [join(REPO, 'bin/runts.cjs'), '--root', root, 'supervise', '--auto'], {
    stdio: ['ignore', 'ignore', errFd],
    env: { ...process.env, RUNTS_HOST_IDLE: '600', ...env },
  });
  closeSync(errFd);
  if (!(await eventually(() => existsSync(sock) && host.exitCode === null, 20_000))) {
    host.kill('SIGKILL');
    throw new Error(`the warm host for ${root} did not start (exit ${host.exitCode}): ${readFileSync(errFile, 'utf8').trim().slice(-500)}`);
  }
  return host;
}

/** Stops a host (one of startHost(), or a `runts supervise`: SIGTERM, it closes its sockets) and waits for it. */
export function stopHost(host: ChildProcess): Promise<void> {
  return new Promise<void>((done) => {
    if (host.exitCode !== null || host.signalCode !== null) return done();
    host.once('exit', () => done());
    host.kill('SIGTERM');
  });
}
