// A private dockerd (Debian's docker.io 20.10) for end-to-end tests: data root, exec root, pidfile, socket, trust
// key and cgroup parent all its own, no networking of its own (no bridge, no iptables), `runts` registered as a
// runtime, a busybox image imported from a tar, and a teardown that leaves nothing behind (containers, dockerd,
// its managed containerd and shims, mounts, cgroups, runts state) even when a test failed half-way.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, RUNTS, cgroupHierarchies } from './runts.js';
import {
  killAndWait,
  processes,
  processesRootedUnder,
  rmdirTree,
  run,
  shellQuote,
  step,
  shimSocketsIn,
  sleep,
  unmountUnder,
  type CtrResult,
} from './containerd.js';

/** Debian's daemon and client, by absolute path: /usr/local/bin/docker may be an unrelated newer client. */
export const DOCKERD = '/usr/sbin/dockerd';
export const DOCKER = '/usr/bin/docker';
/** The namespace dockerd uses in its containerd. */
const NAMESPACE = 'moby';
/** Hard-coded in dockerd and containerd: the plugin socket dir and the shims' socket dir. */
const RUN_DOCKER = '/run/docker';
const RUN_CONTAINERD = '/run/containerd';

export interface DockerOptions {
  /** Kill the call after this long (default 60 s). */
  timeoutMs?: number;
  /** Run docker with a pty as its stdin/stdout (under util-linux `script`), as `-t` wants. */
  tty?: boolean;
  /** The call's stdin (then EOF), for `-i`. */
  input?: string;
}

/**
 * A private dockerd with runts registered as runtime `runts` (this checkout's bin/runts).
 *
 * @example
 * const d = await Dockerd.start();
 * try {
 *   const r = await d.docker(['run', '--rm', '--runtime', 'runts', d.image, 'true']);
 * } finally {
 *   await d.stop();
 * }
 */
export class Dockerd {
  /** Temp dir holding everything the daemon makes. */
  readonly dir: string;
  readonly socket: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly logFile: string;
  /** dockerd's --cgroup-parent: each container's cgroup is `<cgroupParent>/<id>` in every hierarchy. */
  readonly cgroupParent: string;
  /** The busybox image every test runs. */
  readonly image = 'runts-e2e-busybox:latest';
  /** Where the runtimes keep their state: dockerd passes `--root <execRoot>/runtime-runc/moby` to every runtime. */
  readonly runtimeRoot: string;
  private daemon: ChildProcess | undefined;
  private readonly existed: Record<string, boolean>;

  private constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'runts-docker-'));
    this.socket = join(this.dir, 'docker.sock');
    this.dataRoot = join(this.dir, 'data');
    this.execRoot = join(this.dir, 'exec');
    this.logFile = join(this.dir, 'dockerd.log');
    this.cgroupParent = `/runts-e2e-docker-${randomBytes(4).toString('hex')}`;
    this.runtimeRoot = join(this.execRoot, 'runtime-runc', NAMESPACE);
    this.existed = Object.fromEntries([RUN_DOCKER, RUN_CONTAINERD].map((d) => [d, existsSync(d)]));
  }

  /** True when Debian's dockerd and docker client are installed. */
  static installed(): boolean {
    return existsSync(DOCKERD) && existsSync(DOCKER);
  }

  /**
   * Starts dockerd, waits until it answers (30 s at most) and imports the busybox image. `runtimes` are registered
   * by name (default: runts = this checkout's bin/runts); `env` is the daemon's (its containerd, shims and the runtimes
   * inherit it), this process's by default.
   */
  static async start(opts: { runtimes?: Record<string, string>; env?: NodeJS.ProcessEnv } = {}): Promise<Dockerd> {
    const d = new Dockerd();
    try {
      await d.boot(opts.runtimes ?? { runts: RUNTS }, opts.env ?? process.env);
      await d.importImage();
      return d;
    } catch (e) {
      await d.stop();
      throw e;
    }
  }

  private async boot(runtimes: Record<string, string>, env: NodeJS.ProcessEnv): Promise<void> {
    // The trust key would otherwise go to /etc/docker/key.json; only the config file can move it.
    const config = join(this.dir, 'daemon.json');
    writeFileSync(config, JSON.stringify({ 'deprecated-key-path': join(this.dir, 'key.json') }));
    const args = [
      '--config-file', config,
      '--data-root', this.dataRoot,
      '--exec-root', this.execRoot,
      '--pidfile', join(this.dir, 'dockerd.pid'),
      '--host', `unix://${this.socket}`,
      // No docker0 bridge, no iptables rules: the host's network stays as it was.
      '--bridge=none', '--iptables=false', '--ip6tables=false',
      // vfs works on any filesystem /tmp may be on, and the busybox layer is small enough to copy.
      '--storage-driver', 'vfs',
      '--cgroup-parent', this.cgroupParent,
      '--shutdown-timeout', '5',
      ...Object.entries(runtimes).flatMap(([name, path]) => ['--add-runtime', `${name}=${path}`]),
    ];
    const log = openSync(this.logFile, 'w');
    try {
      this.daemon = spawn(DOCKERD, args, { stdio: ['ignore', log, log], env });
    } finally {
      closeSync(log);
    }
    let exited = false;
    this.daemon.on('exit', () => (exited = true));
    const end = Date.now() + 30_000;
    while (Date.now() < end) {
      if (exited) throw new Error(`dockerd exited during startup; its log:\n${this.logTail()}`);
      const v = await this.docker(['version'], { timeoutMs: 5_000 });
      if (v.status === 0) return;
      await sleep(200);
    }
    throw new Error(`dockerd did not answer on ${this.socket} within 30 s; its log:\n${this.logTail()}`);
  }

  /** `docker import` of a fresh busybox rootfs tar (no registry, no network). */
  private async importImage(): Promise<void> {
    const rootfs = join(this.dir, 'image-rootfs');
    const made = spawnSync(join(REPO, 'scripts/make-rootfs.sh'), [rootfs], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`make-rootfs.sh ${rootfs} failed: ${made.stderr}`);
    const tar = join(this.dir, 'busybox.tar');
    const t = spawnSync('tar', ['-C', rootfs, '-cf', tar, '.'], { encoding: 'utf8' });
    if (t.status !== 0) throw new Error(`tar of ${rootfs} failed: ${t.stderr}`);
    const r = await this.docker(['import', tar, this.image]);
    if (r.status !== 0) throw new Error(`docker import failed: ${r.stderr}`);
    rmSync(rootfs, { recursive: true, force: true });
    rmSync(tar, { force: true });
  }

  /** The last lines of dockerd's log (it includes its containerd's). */
  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no dockerd log)';
    }
  }

  /** `docker ...args` against this daemon, with a timeout; under `script` (a pty) when `tty`. */
  docker(args: string[], opts: DockerOptions = {}): Promise<CtrResult> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    // The client's own config dir too, so it never writes to ~/.docker.
    const env = { ...process.env, DOCKER_HOST: `unix://${this.socket}`, DOCKER_CONFIG: join(this.dir, 'client') };
    if (!opts.tty) return run(DOCKER, args, this.dir, timeoutMs, env, opts.input);
    // script gives docker a pty; -e returns docker's exit status. Everything, stderr included, is on stdout.
    const line = [DOCKER, ...args].map(shellQuote).join(' ');
    return run('script', ['-qec', line, '/dev/null'], this.dir, timeoutMs, env, opts.input);
  }

  /** `docker inspect -f <format> <name>`, trimmed ('' when it failed). */
  async inspect(name: string, format: string): Promise<string> {
    const r = await this.docker(['inspect', '-f', format, name]);
    return r.status === 0 ? r.stdout.trim() : '';
  }

  /** Everything useful when a docker call went wrong: its output and dockerd's log tail. */
  explain(r: CtrResult): string {
    return [
      `docker status=${r.status} signal=${r.signal}${r.timedOut ? ' (timed out)' : ''}`,
      `stdout: ${JSON.stringify(r.stdout)}`,
      `stderr: ${JSON.stringify(r.stderr)}`,
      `dockerd log tail:\n${this.logTail(15)}`,
    ].join('\n');
  }

  /**
   * Tears everything down, best effort and in order, never throwing: containers through docker, the daemon
   * (SIGTERM: it stops its containerd; then SIGKILL), leftover containerd and shims, runts containers, container
   * processes, mounts, cgroups, the dirs dockerd made in /run, and the temp dir.
   */
  async stop(): Promise<void> {
    if (this.daemon && this.daemon.exitCode === null && this.daemon.signalCode === null) {
      await step(async () => {
        const ls = await this.docker(['ps', '-aq'], { timeoutMs: 15_000 });
        const ids = ls.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
        if (ids.length > 0) await this.docker(['rm', '-f', ...ids], { timeoutMs: 60_000 });
      });
      await step(() => this.stopDaemon());
    }
    const shimSockets: string[] = [];
    await step(() => shimSockets.push(...shimSocketsIn(join(this.execRoot, 'containerd/daemon/io.containerd.runtime.v2.task', NAMESPACE))));
    // dockerd's containerd and its shims name our temp dir on their command lines.
    await step(() => killAndWait(processes((argv) => argv.some((a) => a.includes(this.dir)))));
    await step(() => this.deleteRuntsContainers());
    await step(() => killAndWait(processesRootedUnder(this.dir)));
    await step(() => unmountUnder(this.dir));
    await step(() => {
      for (const h of cgroupHierarchies()) if (existsSync(join(h, this.cgroupParent))) rmdirTree(join(h, this.cgroupParent));
    });
    for (const s of shimSockets) await step(() => rmSync(s, { force: true }));
    await step(() => rmSync(this.dir, { recursive: true, force: true }));
    // What we brought into being in /run goes, if nothing else uses it (rmdir fails on a non-empty dir).
    if (!this.existed[RUN_DOCKER]) for (const d of [join(RUN_DOCKER, 'plugins'), RUN_DOCKER]) await step(() => rmdirSync(d));
    if (!this.existed[RUN_CONTAINERD]) for (const d of [join(RUN_CONTAINERD, 's'), RUN_CONTAINERD]) await step(() => rmdirSync(d));
  }

  private async stopDaemon(): Promise<void> {
    const d = this.daemon!;
    const gone = new Promise<void>((r) => (d.exitCode !== null || d.signalCode !== null ? r() : d.once('exit', () => r())));
    d.kill('SIGTERM');
    if (await Promise.race([gone.then(() => true), sleep(20_000).then(() => false)])) return;
    d.kill('SIGKILL');
    await gone;
  }

  /** Containers runts still knows of (the runc comparison's state shares the dir: runts skips it or fails). */
  private async deleteRuntsContainers(): Promise<void> {
    if (!existsSync(this.runtimeRoot)) return;
    mkdirSync(join(this.dir, 'teardown'), { recursive: true });
    const ls = await run(RUNTS, ['--root', this.runtimeRoot, 'list', '-q'], join(this.dir, 'teardown'), 15_000);
    for (const id of ls.stdout.split('\n').map((s) => s.trim()).filter(Boolean)) {
      await run(RUNTS, ['--root', this.runtimeRoot, 'delete', '--force', id], join(this.dir, 'teardown'), 15_000);
    }
  }
}
