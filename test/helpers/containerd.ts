// A private containerd 1.6 for end-to-end tests: its own config, root, state and sockets in a temp dir, a unique
// namespace, and a teardown that leaves nothing behind (daemon, shims, containers, mounts, cgroups, runts state)
// even when a test failed half-way.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, RUNTS, cgroupHierarchies } from './runts.js';

export const CONTAINERD = '/usr/bin/containerd';
export const CTR = '/usr/bin/ctr';
export const SHIM = 'containerd-shim-runc-v2';
/** Where the runc shim keeps runtime state: it passes `--root <RUNC_ROOT>/<namespace>` to the runtime binary. */
export const RUNC_ROOT = '/run/containerd/runc';
/** Hard-coded by containerd 1.6: ctr's default FIFO dir and the shims' socket dir live under it. */
const RUN_CONTAINERD = '/run/containerd';

/** What a finished `ctr` (or `script` around it) did. */
export interface CtrResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The call was killed because it outlived its timeout. */
  timedOut: boolean;
}

export interface CtrOptions {
  /** Kill the call after this long (default 30 s). */
  timeoutMs?: number;
  /** Run ctr with a pty as its stdin/stdout (under util-linux `script`), as `ctr ... -t` requires. */
  tty?: boolean;
}

/** True when util-linux `script` is available, so `-t` calls can have a pty. */
export function hasScript(): boolean {
  return spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Quotes one word for /bin/sh. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls an async `check` every 100 ms until it is true or `timeoutMs` has passed; returns the last answer. */
export async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(100);
  }
  return check();
}

/**
 * Runs a command; stdout and stderr go to files, not pipes, so a process that outlives it cannot hold us up.
 * `input`, when given, is the command's stdin (from a file, then EOF).
 */
export async function run(file: string, args: string[], dir: string, timeoutMs: number, env?: NodeJS.ProcessEnv, input?: string): Promise<CtrResult> {
  const base = join(dir, `out-${randomBytes(4).toString('hex')}`);
  const outFd = openSync(`${base}.stdout`, 'w+');
  const errFd = openSync(`${base}.stderr`, 'w+');
  if (input !== undefined) writeFileSync(`${base}.stdin`, input);
  const inFd = input === undefined ? 'ignore' : openSync(`${base}.stdin`, 'r');
  try {
    const child = spawn(file, args, { stdio: [inFd, outFd, errFd], env: env ?? process.env });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const [status, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) => {
      child.on('error', () => done([null, null]));
      child.on('exit', (c, s) => done([c, s]));
    });
    clearTimeout(timer);
    return {
      status,
      signal,
      stdout: readFileSync(`${base}.stdout`, 'utf8'),
      stderr: readFileSync(`${base}.stderr`, 'utf8'),
      timedOut,
    };
  } finally {
    closeSync(outFd);
    closeSync(errFd);
    if (typeof inFd === 'number') closeSync(inFd);
    rmSync(`${base}.stdout`, { force: true });
    rmSync(`${base}.stderr`, { force: true });
    rmSync(`${base}.stdin`, { force: true });
  }
}

/** One row of `ctr task ls`. */
export interface TaskRow {
  id: string;
  pid: number;
  status: string;
}

/**
 * A private containerd daemon driving runts through the runc v2 shim.
 *
 * @example
 * const cd = await Containerd.start();
 * try {
 *   const r = await cd.ctr(['run', '--rm', ...cd.runtimeArgs(), '--rootfs', cd.rootfs('c1'), 'c1', '/bin/true']);
 * } finally {
 *   await cd.stop();
 * }
 */
export class Containerd {
  /** Temp dir holding config, root, state, sockets, rootfs dirs and ctr's FIFOs. */
  readonly dir: string;
  readonly address: string;
  readonly namespace: string;
  readonly root: string;
  readonly state: string;
  readonly logFile: string;
  /** Where runts keeps this namespace's containers (the `--root` the shim passes). */
  readonly runtsRoot: string;
  private daemon: ChildProcess | undefined;
  private readonly runContainerdExisted: boolean;

  private constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'runts-e2e-'));
    this.namespace = `runts-e2e-${randomBytes(4).toString('hex')}`;
    this.address = join(this.dir, 'containerd.sock');
    this.root = join(this.dir, 'root');
    this.state = join(this.dir, 'state');
    this.logFile = join(this.dir, 'containerd.log');
    this.runtsRoot = join(RUNC_ROOT, this.namespace);
    this.runContainerdExisted = existsSync(RUN_CONTAINERD);
  }

  /**
   * Writes a private config, starts containerd and waits until `ctr version` answers (10 s at most). `env` is the
   * daemon's (its shims and the runtime inherit it); this process's by default.
   */
  static async start(opts: { env?: NodeJS.ProcessEnv } = {}): Promise<Containerd> {
    const cd = new Containerd();
    try {
      await cd.boot(opts.env ?? process.env);
      return cd;
    } catch (e) {
      await cd.stop();
      throw e;
    }
  }

  private async boot(env: NodeJS.ProcessEnv): Promise<void> {
    const config = join(this.dir, 'config.toml');
    // No CRI (it wants CNI and an image service), and no snapshotters that need filesystems or tools absent here.
    // The opt plugin would otherwise create /opt/containerd on the host.
    writeFileSync(
      config,
      [
        'version = 2',
        `root = ${JSON.stringify(this.root)}`,
        `state = ${JSON.stringify(this.state)}`,
        'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]',
        '[grpc]',
        `  address = ${JSON.stringify(this.address)}`,
        '[ttrpc]',
        `  address = ${JSON.stringify(join(this.dir, 'containerd.ttrpc.sock'))}`,
        '[debug]',
        `  address = ${JSON.stringify(join(this.dir, 'containerd.debug.sock'))}`,
        '  level = "debug"',
        '[plugins."io.containerd.internal.v1.opt"]',
        `  path = ${JSON.stringify(join(this.dir, 'opt'))}`,
        '',
      ].join('\n'),
    );
    const log = openSync(this.logFile, 'w');
    try {
      this.daemon = spawn(CONTAINERD, ['--config', config], { stdio: ['ignore', log, log], env });
    } finally {
      closeSync(log);
    }
    let exited = false;
    this.daemon.on('exit', () => (exited = true));
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      if (exited) throw new Error(`containerd exited during startup; its log:\n${this.logTail()}`);
      const v = await run(CTR, ['--address', this.address, 'version'], this.dir, 5_000);
      if (v.status === 0) return;
      await sleep(100);
    }
    throw new Error(`containerd did not answer on ${this.address} within 10 s; its log:\n${this.logTail()}`);
  }

  /** The last lines of containerd's own log (debug level: includes shim start/exit and runtime errors). */
  logTail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no containerd log)';
    }
  }

  /** `ctr --address <sock> -n <namespace> ...args`, with a timeout; under `script` (a pty) when `tty`. */
  ctr(args: string[], opts: CtrOptions = {}): Promise<CtrResult> {
    const full = ['--address', this.address, '-n', this.namespace, ...args];
    const timeoutMs = opts.timeoutMs ?? 30_000;
    if (!opts.tty) return run(CTR, full, this.dir, timeoutMs);
    // script gives ctr a pty on stdin/stdout (ctr -t insists on a console); -e returns ctr's exit status.
    // Everything ctr prints, stderr included, arrives on script's stdout.
    const line = [CTR, ...full].map(shellQuote).join(' ');
    return run('script', ['-qec', line, '/dev/null'], this.dir, timeoutMs);
  }

  /**
   * The flags that make ctr use runts (this checkout's bin/runts) through the runc v2 shim. `RUNTS_E2E_RUNTIME`
   * (an absolute path) swaps in another binary, e.g. /usr/sbin/runc to check the suite against the reference.
   */
  runtimeArgs(): string[] {
    return ['--runtime', 'io.containerd.runc.v2', '--runc-binary', process.env.RUNTS_E2E_RUNTIME || RUNTS];
  }

  /** ctr's FIFOs in our temp dir rather than /run/containerd/fifo. */
  fifoArgs(): string[] {
    return ['--fifo-dir', join(this.dir, 'fifo')];
  }

  /** A fresh busybox rootfs for one container (never share one between running containers). */
  rootfs(name: string): string {
    const dest = join(this.dir, 'rootfs', name);
    const made = spawnSync(join(REPO, 'scripts/make-rootfs.sh'), [dest], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`make-rootfs.sh ${dest} failed: ${made.stderr}`);
    return dest;
  }

  /** The shim's task directory for container `id` (bundle, init.pid, log.json). */
  taskDir(id: string): string {
    return join(this.state, 'io.containerd.runtime.v2.task', this.namespace, id);
  }

  /** The JSON log runts wrote for `id` (the shim passes `--log <taskdir>/log.json`), or '' if gone. */
  taskLog(id: string): string {
    try {
      return readFileSync(join(this.taskDir(id), 'log.json'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Rows of `ctr task ls`. */
  async tasks(): Promise<TaskRow[]> {
    const r = await this.ctr(['task', 'ls']);
    if (r.status !== 0) throw new Error(`ctr task ls failed: ${r.stderr}`);
    return r.stdout
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length === 3)
      .map(([id, pid, status]) => ({ id, pid: Number(pid), status }));
  }

  /** The `ctr task ls` row of `id`, if any. */
  async task(id: string): Promise<TaskRow | undefined> {
    return (await this.tasks()).find((t) => t.id === id);
  }

  /** Everything useful when a ctr call about `id` went wrong: its output, runts' log.json, containerd's log. */
  explain(id: string, r: CtrResult): string {
    return [
      `ctr status=${r.status} signal=${r.signal}${r.timedOut ? ' (timed out)' : ''}`,
      `stdout: ${JSON.stringify(r.stdout)}`,
      `stderr: ${JSON.stringify(r.stderr)}`,
      `runts log.json (${join(this.taskDir(id), 'log.json')}):\n${this.taskLog(id) || '(none)'}`,
      `containerd log tail:\n${this.logTail(15)}`,
    ].join('\n');
  }

  /**
   * Tears everything down, best effort and in order, never throwing: containers through containerd, the daemon
   * (SIGTERM, then SIGKILL), leftover shims, runts containers, container processes, mounts, cgroups, runts state
   * and the temp dir.
   */
  async stop(): Promise<void> {
    if (this.daemon && this.daemon.exitCode === null && this.daemon.signalCode === null) {
      // The polite way first: containerd tells each shim to delete its task, and the shim exits.
      await step(async () => {
        const ls = await this.ctr(['container', 'ls', '-q'], { timeoutMs: 10_000 });
        for (const id of ls.stdout.split('\n').map((s) => s.trim()).filter(Boolean)) {
          await this.ctr(['task', 'delete', '--force', id], { timeoutMs: 10_000 });
          await this.ctr(['container', 'delete', id], { timeoutMs: 10_000 });
        }
      });
      await step(() => this.stopDaemon());
    }
    const shimSockets: string[] = [];
    await step(() => shimSockets.push(...this.shimSockets()));
    await step(() => this.killShims());
    // Shims are gone, so their containers were reparented to init; let runts delete what it made.
    await step(() => this.deleteRuntsContainers());
    await step(() => this.killContainerProcesses());
    await step(() => this.unmountAll());
    await step(() => this.removeCgroups());
    for (const s of shimSockets) await step(() => rmSync(s, { force: true }));
    await step(() => rmSync(this.runtsRoot, { recursive: true, force: true }));
    await step(() => rmSync(this.dir, { recursive: true, force: true }));
    if (!this.runContainerdExisted) {
      // We brought /run/containerd into being (shims and ctr make it); remove it if nothing else uses it.
      for (const d of [RUNC_ROOT, join(RUN_CONTAINERD, 's'), join(RUN_CONTAINERD, 'fifo'), RUN_CONTAINERD]) await step(() => rmdirSync(d));
    }
  }

  private async stopDaemon(): Promise<void> {
    const d = this.daemon!;
    const gone = new Promise<void>((r) => (d.exitCode !== null || d.signalCode !== null ? r() : d.once('exit', () => r())));
    d.kill('SIGTERM');
    if (await Promise.race([gone.then(() => true), sleep(5_000).then(() => false)])) return;
    d.kill('SIGKILL');
    await gone;
  }

  /** Socket files of our shims, named in each task dir's `address` file (a SIGKILLed shim leaves its socket). */
  private shimSockets(): string[] {
    return shimSocketsIn(join(this.state, 'io.containerd.runtime.v2.task', this.namespace));
  }

  private async killShims(): Promise<void> {
    const ours = processes((argv) => {
      if (!argv[0]?.endsWith(SHIM)) return false;
      const ns = argv.indexOf('-namespace');
      return (ns >= 0 && argv[ns + 1] === this.namespace) || argv.some((a) => a.includes(this.dir));
    });
    await killAndWait(ours);
  }

  private async deleteRuntsContainers(): Promise<void> {
    if (!existsSync(this.runtsRoot)) return;
    const ls = await run(RUNTS, ['--root', this.runtsRoot, 'list', '-q'], this.dir, 15_000);
    for (const id of ls.stdout.split('\n').map((s) => s.trim()).filter(Boolean)) {
      await run(RUNTS, ['--root', this.runtsRoot, 'delete', '--force', id], this.dir, 15_000);
    }
  }

  /** Any process still rooted inside our temp dir is a container runts failed to stop. */
  private async killContainerProcesses(): Promise<void> {
    await killAndWait(processesRootedUnder(this.dir));
  }

  /** The shim bind-mounts each rootfs into its task dir; a killed shim leaves the mount. */
  private unmountAll(): void {
    unmountUnder(this.dir);
  }

  /** ctr puts each container in cgroup `/<namespace>/<id>`; runts removes `<id>`, nobody removes `<namespace>`. */
  private removeCgroups(): void {
    for (const h of cgroupHierarchies()) {
      const top = join(h, this.namespace);
      if (existsSync(top)) rmdirTree(top);
    }
  }
}

/** Socket files named in the `address` file of each task dir under `nsDir` (a SIGKILLed shim leaves its socket). */
export function shimSocketsIn(nsDir: string): string[] {
  if (!existsSync(nsDir)) return [];
  const sockets: string[] = [];
  for (const id of readdirSync(nsDir)) {
    try {
      const addr = readFileSync(join(nsDir, id, 'address'), 'utf8').trim();
      if (addr.startsWith('unix://')) sockets.push(addr.slice('unix://'.length));
    } catch {
      // no address file: the shim never started
    }
  }
  return sockets;
}

/** Pids of processes (other than this one) whose command line satisfies `match`. */
export function processes(match: (argv: string[], pid: number) => boolean): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (match(argv, pid)) pids.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Pids of processes whose root directory is somewhere under `dir`: containers whose rootfs lives there. */
export function processesRootedUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/root`).startsWith(dir + '/')) pids.push(Number(name));
    } catch {
      // exited, or a kernel thread
    }
  }
  return pids;
}

/** Lazily unmounts every mount point under `dir`, innermost first. */
export function unmountUnder(dir: string): void {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p.startsWith(dir + '/'))
    .sort((a, b) => b.length - a.length);
  for (const p of points) spawnSync('umount', ['-l', p], { stdio: 'ignore' });
}

/** rmdir a cgroup directory and its sub-cgroups, depth first (cgroupfs dirs are removed with rmdir). */
export function rmdirTree(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmdirTree(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {
    // still has processes: nothing more to do here
  }
}

/** SIGKILL each pid and wait (5 s at most) until none is alive. */
/** One step of a teardown: its failure is swallowed, so each later step still cleans up what this one could not. */
export async function step(what: () => unknown): Promise<void> {
  try {
    await what();
  } catch {
    // teardown keeps going
  }
}

export async function killAndWait(pids: number[]): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const end = Date.now() + 5_000;
  while (Date.now() < end && pids.some(alive)) await sleep(50);
}

function alive(pid: number): boolean {
  try {
    // A zombie still answers signal 0, but its /proc status says Z: it is dead for our purposes.
    process.kill(pid, 0);
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
