// Rootless Podman 4.3 (Debian's) as an ordinary test user, with `--runtime <runtime>`: vfs storage, run root, tmp
// dir, HOME and XDG_RUNTIME_DIR in a temp dir of the user's, cgroupfs (nothing is delegated: no cgroups), events
// to a file, `--network none` (no slirp4netns). Podman maps the user's /etc/subuid and /etc/subgid ranges with
// newuidmap/newgidmap and runs the runtime as root of that user namespace.
//
// Every call runs under util-linux `script`, so podman and the runtime get a pty of the user's as stdio: runc's
// rootless `run` fchowns its stdio, which fails on a pipe or file of root's (`fchown fd 7: operation not permitted`).
import { chownSync, chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type CtrResult } from './containerd.js';
import { busyboxImageTar } from './podman.js';
import type { TestUser } from './rootless.js';

export const PODMAN = '/usr/bin/podman';

/** A shell word: the command line `script -c` runs is parsed by sh. */
function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export class RootlessPodman {
  readonly dir = mkdtempSync(join(tmpdir(), 'runts-podman-rl-'));
  readonly image = 'localhost/runts-e2e-busybox:latest';

  private constructor(
    readonly user: TestUser,
    readonly runtime: string,
  ) {
    chmodSync(this.dir, 0o755);
    chownSync(this.dir, user.uid, user.gid);
    for (const d of ['home', 'xdg']) {
      mkdirSync(join(this.dir, d), { mode: 0o700 });
      chownSync(join(this.dir, d), user.uid, user.gid);
    }
    // Our containers.conf only: the host's /etc/containers settings do not leak in.
    writeFileSync(join(this.dir, 'containers.conf'), '[containers]\n');
  }

  /** Imports a busybox image into the user's store; throws (after cleaning up) when podman cannot. */
  static async start(user: TestUser, runtime: string): Promise<RootlessPodman> {
    const p = new RootlessPodman(user, runtime);
    try {
      const tar = busyboxImageTar(p.dir);
      const r = await p.podman(['import', tar, p.image], 120_000);
      if (r.status !== 0) throw new Error(`podman import failed: ${p.explain(r)}`);
      return p;
    } catch (e) {
      await p.stop();
      throw e;
    }
  }

  /** `podman <private store flags> ...args` as the user, on a pty; the output's \r\n made \n. */
  async podman(args: string[], timeoutMs = 60_000): Promise<CtrResult> {
    const flags = [
      '--root', join(this.dir, 'root'),
      '--runroot', join(this.dir, 'runroot'),
      '--tmpdir', join(this.dir, 'tmp'),
      '--storage-driver', 'vfs',
      '--cgroup-manager', 'cgroupfs',
      '--events-backend', 'file',
      '--runtime', this.runtime,
    ];
    const line = [PODMAN, ...flags, ...args].map(quote).join(' ');
    const env = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: join(this.dir, 'home'),
      XDG_RUNTIME_DIR: join(this.dir, 'xdg'),
      CONTAINERS_CONF: join(this.dir, 'containers.conf'),
    };
    const setpriv = ['--reuid', String(this.user.uid), '--regid', String(this.user.gid), '--init-groups'];
    const r = await run('setpriv', [...setpriv, 'script', '--quiet', '--return', '--command', line, '/dev/null'], this.dir, timeoutMs, env);
    return { ...r, stdout: r.stdout.replace(/\r\n/g, '\n') };
  }

  /** The runts state root podman's runtime used (root of the user's namespace, XDG_RUNTIME_DIR set). */
  get runtsRoot(): string {
    return join(this.dir, 'xdg', 'runts');
  }

  explain(r: CtrResult): string {
    return `podman (${this.runtime}) status=${r.status} signal=${r.signal}${r.timedOut ? ' (timed out)' : ''}\noutput: ${JSON.stringify(r.stdout)}\nstderr: ${JSON.stringify(r.stderr)}`;
  }

  /**
   * Removes the containers through podman, then the store (files of the user's subordinate ids: root removes
   * them). The user's processes (podman's pause process, conmon) end with the user (TestUser.remove).
   */
  async stop(): Promise<void> {
    await this.podman(['rm', '--all', '--force', '--time', '0']).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
