// Rootful Podman 4.3 (Debian's) with `--runtime <repo>/bin/runts` for end-to-end tests: private storage, run
// root and tmp dir in a temp dir, vfs, cgroupfs under a unique cgroup parent, events to a file, no systemd, and a
// teardown that leaves nothing behind (containers, conmon, runts state, mounts, cgroups) even after a failure.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, RUNTS, cgroupHierarchies, eventually } from './runts.js';
import { killAndWait, processes, processesRootedUnder, rmdirTree, run, step, unmountUnder, type CtrResult } from './containerd.js';

export const PODMAN = '/usr/bin/podman';
/** Podman (containers/image) keeps a blob-info cache here for root, whatever --root says. */
const BLOB_CACHE = '/var/lib/containers/cache';

/** Hard limit of `resource` (`-n` files, `-u` processes) for this process, or undefined when unlimited. */
function hardLimit(flag: '-n' | '-u'): number | undefined {
  const out = spawnSync('sh', ['-c', `ulimit -H ${flag}`], { encoding: 'utf8' }).stdout.trim();
  return /^\d+$/.test(out) ? Number(out) : undefined;
}

/** Makes a busybox rootfs in `dir` and packs it as `dir/busybox.tar`, an image `podman import` takes; returns the tar. */
export function busyboxImageTar(dir: string): string {
  const rootfs = join(dir, 'image-rootfs');
  const made = spawnSync(join(REPO, 'scripts/make-rootfs.sh'), [rootfs], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`make-rootfs.sh ${rootfs} failed: ${made.stderr}`);
  const tar = join(dir, 'busybox.tar');
  const t = spawnSync('tar', ['-C', rootfs, '-cf', tar, '.'], { encoding: 'utf8' });
  if (t.status !== 0) throw new Error(`tar of ${rootfs} failed: ${t.stderr}`);
  rmSync(rootfs, { recursive: true, force: true });
  return tar;
}

export class Podman {
  readonly dir: string;
  /** Every container's cgroup is `<cgroupParent>/libpod-<id>`, conmon's `<cgroupParent>/conmon`. */
  readonly cgroupParent: string;
  readonly image = 'localhost/runts-e2e-busybox:latest';
  private readonly blobCacheExisted = existsSync(BLOB_CACHE);
  private readonly varLibContainersExisted = existsSync('/var/lib/containers');

  private constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'runts-podman-'));
    this.cgroupParent = `/runts-e2e-podman-${randomBytes(4).toString('hex')}`;
    // Podman gives a root container RLIMIT_NOFILE 1048576 and, at its own start, lowers its RLIMIT_NPROC (which
    // conmon and the runtime inherit) to 32768. Raising a hard limit needs CAP_SYS_RESOURCE, which a CI sandbox
    // may not grant (runc and crun then fail the same way), so the container asks for no more than we have.
    const nofile = hardLimit('-n');
    const nproc = Math.min(hardLimit('-u') ?? 32768, 32768);
    const ulimits = [...(nofile === undefined ? [] : [`nofile=${nofile}:${nofile}`]), `nproc=${nproc}:${nproc}`];
    writeFileSync(join(this.dir, 'containers.conf'), `[containers]\ndefault_ulimits = ${JSON.stringify(ulimits)}\n`);
  }

  static installed(): boolean {
    return existsSync(PODMAN);
  }

  /** Imports the busybox image; throws (after cleaning up) when podman cannot. */
  static async start(): Promise<Podman> {
    const p = new Podman();
    try {
      const tar = busyboxImageTar(p.dir);
      const r = await p.podman(['import', tar, p.image]);
      if (r.status !== 0) throw new Error(`podman import failed: ${r.stderr}`);
      rmSync(tar, { force: true });
      return p;
    } catch (e) {
      await p.stop();
      throw e;
    }
  }

  /**
   * The global flags of every call. Podman hands them on to the cleanup process conmon runs when a container
   * exits, so that one works on the same private store too. (A `--runtime-flag root=...` is not handed on, so
   * runts keeps its state in its default root, under podman's 64-hex container ids.) `runtime`: the OCI runtime binary.
   */
  globalArgs(runtime = RUNTS): string[] {
    return [
      '--root', join(this.dir, 'root'),
      '--runroot', join(this.dir, 'runroot'),
      '--tmpdir', join(this.dir, 'tmp'),
      '--network-config-dir', join(this.dir, 'net'),
      '--storage-driver', 'vfs',
      '--cgroup-manager', 'cgroupfs',
      '--events-backend', 'file',
      '--runtime', runtime,
    ];
  }

  /** `podman <global flags> ...args` with a timeout (60 s by default). */
  podman(args: string[], timeoutMs = 60_000): Promise<CtrResult> {
    return run(PODMAN, [...this.globalArgs(), ...args], this.dir, timeoutMs, this.env());
  }

  /** `base` (this process's environment by default) with our containers.conf only: the host's /etc/containers settings do not leak in. */
  env(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
    return { ...base, CONTAINERS_CONF: join(this.dir, 'containers.conf') };
  }

  /** The flags every container gets: no network of its own to set up, our cgroup parent. */
  runArgs(): string[] {
    return ['--network', 'none', '--cgroup-parent', this.cgroupParent];
  }

  explain(r: CtrResult): string {
    return [
      `podman status=${r.status} signal=${r.signal}${r.timedOut ? ' (timed out)' : ''}`,
      `stdout: ${JSON.stringify(r.stdout)}`,
      `stderr: ${JSON.stringify(r.stderr)}`,
    ].join('\n');
  }

  /** Container ids podman's store holds (from its directories, so even a half-made container counts). */
  private storeIds(): string[] {
    const dir = join(this.dir, 'root', 'vfs-containers');
    return existsSync(dir) ? readdirSync(dir).filter((n) => /^[0-9a-f]{64}$/.test(n)) : [];
  }

  /**
   * Tears everything down, best effort, never throwing: containers through podman, conmon and cleanup
   * processes, runts' records of our containers, container processes, mounts, cgroups, the temp dir and the
   * blob-info cache podman made in /var/lib/containers if it was not there before.
   */
  async stop(): Promise<void> {
    const ids = new Set<string>();
    await step(() => this.storeIds().forEach((id) => ids.add(id)));
    await step(() => this.podman(['rm', '--all', '--force', '--time', '0'], 60_000));
    // conmon and podman's cleanup processes name our temp dir on their command lines.
    await step(() => killAndWait(processes((argv) => argv.some((a) => a.includes(this.dir)))));
    for (const id of ids) await step(() => run(RUNTS, ['delete', '--force', id], this.dir, 15_000));
    await step(() => killAndWait(processesRootedUnder(this.dir)));
    await step(() => unmountUnder(this.dir));
    // conmon's exit leaves a zombie in its cgroup (<parent>/conmon) until PID 1 reaps it, which can take seconds
    // here: the cgroups are removed once they are empty.
    await step(() =>
      eventually(() => {
        const left = cgroupHierarchies().filter((h) => existsSync(join(h, this.cgroupParent)));
        for (const h of left) rmdirTree(join(h, this.cgroupParent));
        return left.every((h) => !existsSync(join(h, this.cgroupParent)));
      }, 15_000),
    );
    await step(() => rmSync(this.dir, { recursive: true, force: true }));
    if (!this.blobCacheExisted) {
      await step(() => rmSync(join(BLOB_CACHE, 'blob-info-cache-v1.boltdb'), { force: true }));
      await step(() => rmdirSync(BLOB_CACHE));
      if (!this.varLibContainersExisted) await step(() => rmdirSync('/var/lib/containers'));
    }
  }
}
