import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CTR, Containerd } from '../../test/helpers/containerd.js';
import { DOCKER, DOCKERD, Dockerd } from '../../test/helpers/docker.js';
import { PODMAN, Podman } from '../../test/helpers/podman.js';
import type { BenchContext } from '../lib/context.js';
import { BenchError } from '../lib/errors.js';
import { hostsServing, stopOwnHosts, waitForHost, type HostProcess } from '../lib/host.js';
import { parseProbeLog, summarizeCalls, writeProbe } from '../lib/probe.js';
import type { Entry, RuntimeName } from '../lib/report.js';
import { showCommand, tail, timeSync } from '../lib/runtimes.js';

type Side = 'runts' | 'runc';
const SIDES: Side[] = ['runts', 'runc'];

/** One client command line. */
interface Command {
  exe: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** A client set up for the benchmark: how to run /bin/true through it with a runtime binary, and its teardown. */
interface Session {
  /** `<client> run --rm … /bin/true` with runtime `bin` (docker: a registered runtime's name). */
  command(bin: string, id: string): Command;
  /** The --root the client passes to runts: where its warm host must be. */
  runtsRoot: string;
  /** How the client finds that root, for the row's note. */
  rootHow: string;
  /** The runtime binaries (docker: names) for the timed runs and for the probe run. */
  bins: Record<Side, string>;
  probeBins: Record<Side, string>;
  version: string;
  stop(): Promise<void>;
}

interface Client {
  name: string;
  /** The row title: what is timed. */
  title: string;
  /** Why it cannot run here, or undefined. */
  missing(): string | undefined;
  setup(ctx: BenchContext, x: Extras, probe: Record<Side, { bin: string; log: string }>): Promise<Session>;
}

interface Extras {
  /** The environment the clients (and through them the runtimes) get: the harness's RUNTS_AUTOSTART=0 left out. */
  env: NodeJS.ProcessEnv;
  runc: string;
}

function firstLine(cmd: string, args: string[], env?: NodeJS.ProcessEnv): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env, timeout: 15_000 });
  return r.status === 0 ? r.stdout.trim().split('\n')[0]! : `(${cmd} ${args.join(' ')} failed)`;
}

/**
 * A docker-archive tar of the run's busybox rootfs (one layer, `RepoTags` naming it) that `ctr images import`
 * takes offline: manifest.json, the image config (its diff_id is the layer tar's sha256) and the layer.
 */
function busyboxArchive(rootfs: string, dir: string, tag: string): string {
  const img = path.join(dir, 'image');
  fs.mkdirSync(img, { recursive: true });
  const layer = path.join(img, 'layer.tar');
  const t = spawnSync('tar', ['-C', rootfs, '-cf', layer, '.'], { encoding: 'utf8' });
  if (t.status !== 0) throw new BenchError('sys', `tar of ${rootfs} failed: ${t.stderr.trim()}`);
  const diffId = `sha256:${createHash('sha256').update(fs.readFileSync(layer)).digest('hex')}`;
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch as string] ?? process.arch;
  const config = { architecture: arch, os: 'linux', config: { Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'] }, rootfs: { type: 'layers', diff_ids: [diffId] } };
  fs.writeFileSync(path.join(img, 'config.json'), JSON.stringify(config));
  fs.writeFileSync(path.join(img, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: [tag], Layers: ['layer.tar'] }]));
  const tar = path.join(dir, 'busybox-image.tar');
  const p = spawnSync('tar', ['-C', img, '-cf', tar, 'manifest.json', 'config.json', 'layer.tar'], { encoding: 'utf8' });
  if (p.status !== 0) throw new BenchError('sys', `tar of ${img} failed: ${p.stderr.trim()}`);
  fs.rmSync(img, { recursive: true, force: true });
  return tar;
}

const containerd: Client = {
  name: 'containerd',
  title: '`ctr run --rm --runc-binary BIN IMAGE ID /bin/true` (containerd 1.6, runc v2 shim)',
  missing: () => (fs.existsSync(CTR) && fs.existsSync('/usr/bin/containerd') ? undefined : 'needs /usr/bin/containerd and /usr/bin/ctr (apt-get install containerd)'),
  async setup(ctx, x, probe) {
    const cd = await Containerd.start({ env: x.env });
    try {
      const image = 'docker.io/runts-bench/busybox:latest';
      const tar = busyboxArchive(ctx.bundles.rootfs, cd.dir, image);
      const imp = await cd.ctr(['images', 'import', tar], { timeoutMs: 60_000 });
      if (imp.status !== 0) throw new BenchError('sys', `ctr images import ${tar} failed: ${imp.stderr.trim()}`);
      return {
        command: (bin, id) => ({
          exe: CTR,
          args: ['--address', cd.address, '-n', cd.namespace, 'run', '--rm', '--runtime', 'io.containerd.runc.v2', '--runc-binary', bin, ...cd.fifoArgs(), image, id, '/bin/true'],
          env: x.env,
        }),
        runtsRoot: cd.runtsRoot,
        rootHow: 'the shim passes --root /run/containerd/runc/<namespace>',
        bins: { runts: ctx.runtimes.find((r) => r.name === 'runts')!.exe, runc: x.runc },
        probeBins: { runts: probe.runts.bin, runc: probe.runc.bin },
        version: firstLine(CTR, ['--version']),
        stop: () => cd.stop(),
      };
    } catch (e) {
      await cd.stop();
      throw e;
    }
  },
};

const podman: Client = {
  name: 'podman',
  title: '`podman run --rm --runtime BIN --network none IMAGE /bin/true` (rootful podman 4.3, conmon, vfs)',
  missing: () => (Podman.installed() ? undefined : `needs ${PODMAN} (apt-get install podman)`),
  async setup(ctx, x, probe) {
    const p = await Podman.start();
    return {
      command: (bin, id) => ({ exe: PODMAN, args: [...p.globalArgs(bin), 'run', '--rm', '--name', id, ...p.runArgs(), p.image, '/bin/true'], env: p.env(x.env) }),
      // Podman passes no --root (see the probe): runts keeps its state in its default root, shared by every root user.
      runtsRoot: '/run/runts',
      rootHow: 'podman passes no --root: the default /run/runts, shared with any other root user of runts',
      bins: { runts: ctx.runtimes.find((r) => r.name === 'runts')!.exe, runc: x.runc },
      probeBins: { runts: probe.runts.bin, runc: probe.runc.bin },
      version: firstLine(PODMAN, ['--version']),
      stop: () => p.stop(),
    };
  },
};

const docker: Client = {
  name: 'docker',
  title: '`docker run --rm --runtime NAME --network none IMAGE /bin/true` (a private dockerd 20.10, `--add-runtime`)',
  missing: () => (Dockerd.installed() ? undefined : `needs ${DOCKERD} and ${DOCKER} (apt-get install docker.io)`),
  async setup(ctx, x, probe) {
    const runts = ctx.runtimes.find((r) => r.name === 'runts')!.exe;
    // The system's dockerd (if any) is left alone: a private one, runts registered beside its built-in runc, and the
    // probe's stand-ins registered as two more runtimes (a runtime can only be added when the daemon starts).
    const d = await Dockerd.start({ runtimes: { runts, 'runts-probe': probe.runts.bin, 'runc-probe': probe.runc.bin }, env: x.env });
    const env = { ...x.env, DOCKER_HOST: `unix://${d.socket}`, DOCKER_CONFIG: path.join(d.dir, 'client') };
    return {
      command: (name, id) => ({ exe: DOCKER, args: ['run', '--rm', '--name', id, '--runtime', name, '--network', 'none', d.image, '/bin/true'], env }),
      runtsRoot: d.runtimeRoot,
      rootHow: 'dockerd passes --root <exec-root>/runtime-runc/moby to every runtime',
      bins: { runts: 'runts', runc: 'runc' },
      probeBins: { runts: 'runts-probe', runc: 'runc-probe' },
      version: firstLine(DOCKER, ['--version'], env),
      stop: () => d.stop(),
    };
  },
};

const CLIENTS = [containerd, podman, docker];

/** Runs one client command; throws a one-line error naming it and its stderr unless it exited 0 (2 min at most). */
function runOnce(cmd: Command, errLog: string): number {
  const t = timeSync(cmd.exe, cmd.args, errLog, false, cmd.env, 120_000);
  if (t.status !== 0) {
    const how = t.signal ? `was killed by ${t.signal}${t.signal === 'SIGKILL' ? ' (timed out after 120 s)' : ''}` : `exited ${t.status}`;
    throw new BenchError('sys', `\`${showCommand(cmd.exe, cmd.args)}\` ${how}; stderr: ${tail(errLog)}`);
  }
  return t.ms;
}

const hostList = (hs: HostProcess[]) => hs.map((h) => `pid ${h.pid} (${h.script})`).join(', ');

/**
 * Benchmark 10: the same container (/bin/true of a busybox image) through real clients, runts vs runc, alternating
 * every iteration, `clientRuns` timed iterations after two untimed ones. runts runs as the clients call it, with a
 * warm host for the root the client passes, auto-started by bin/runts during the first warm-up iteration (the
 * clients get the environment without the harness's RUNTS_AUTOSTART=0). Then one untimed run per runtime through a
 * stand-in binary that logs each call (lib/probe.ts): how many times the client invoked the runtime, and how.
 * A client that is missing, or fails to set up or to run, is a "skipped" row with the reason.
 */
export async function benchClients(ctx: BenchContext, x: Extras): Promise<Entry[]> {
  const out: Entry[] = [];
  const runtsExe = ctx.runtimes.find((r) => r.name === 'runts')!.exe;
  const ownScript = path.join(path.dirname(runtsExe), 'runts.cjs');
  const autostart = x.env.RUNTS_AUTOSTART === undefined || x.env.RUNTS_AUTOSTART !== '0';
  for (const client of CLIENTS) {
    ctx.checkAbort();
    const skip = (reason: string) => out.push({ kind: 'placeholder', num: 10, title: client.title, reason, status: 'skipped' });
    const missing = client.missing();
    if (missing) {
      skip(missing);
      continue;
    }
    const errLog = path.join(ctx.workDir, 'logs', `client-${client.name}.stderr`);
    const probeDir = path.join(ctx.workDir, 'probe', client.name);
    const probe = { runts: writeProbe(probeDir, 'runts', runtsExe), runc: writeProbe(probeDir, 'runc', x.runc) };
    ctx.log(`  ${client.name}: setting up`);
    let session: Session;
    try {
      session = await client.setup(ctx, x, probe);
    } catch (e) {
      skip(`set-up failed: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    const root = session.runtsRoot;
    try {
      // A host of another build serving this root (podman's is /run/runts, shared) would run this build's commands.
      // An auto-started host leaves after 60 s idle: wait that long for it, then give up on the row.
      const foreign = () => hostsServing(root).filter((h) => h.script !== ownScript);
      for (let waited = 0; foreign().length > 0 && waited < 90_000; waited += 1000) {
        if (waited === 0) ctx.log(`  ${client.name}: waiting (90 s at most) for a runts host of another build to leave ${root}: ${hostList(foreign())}`);
        ctx.checkAbort();
        await new Promise((r) => setTimeout(r, 1000));
      }
      if (foreign().length > 0) throw new BenchError('sys', `a runts host of another build serves ${root} (${hostList(foreign())}): it, not this build, would run the commands`);

      const samples: Partial<Record<RuntimeName, number[]>> = {};
      let hostNote = '';
      const iterate = (i: number) => {
        for (const side of SIDES) {
          ctx.checkAbort();
          const ms = runOnce(session.command(session.bins[side], `bench-${side}-${i < 0 ? `w${-i}` : i}`), errLog);
          if (i >= 0) (samples[side] ??= []).push(ms);
        }
      };
      iterate(-1);
      const up = await waitForHost(root, 15_000);
      const before = hostsServing(root);
      if (up) hostNote = `runts: warm host for --root ${root} (${session.rootHow}), auto-started by bin/runts in the first warm-up (${hostList(before) || 'pid not found'})`;
      else hostNote = `runts: NO warm host came up for --root ${root} (${session.rootHow}; auto-start ${autostart ? 'on' : 'off: RUNTS_AUTOSTART=0 was set'}): runts ran through Node`;
      iterate(-2);
      ctx.log(`  ${client.name}: ${hostNote}`);
      for (let i = 0; i < ctx.opts.clientRuns; i++) iterate(i);
      const after = hostsServing(root);
      if (up && hostList(after) !== hostList(before)) hostNote += `; the host changed during the timed runs (now ${hostList(after) || 'none'})`;

      const calls: string[] = [];
      for (const side of SIDES) {
        runOnce(session.command(session.probeBins[side], `bench-${side}-probe`), errLog);
        // A call the client makes after it returned (podman's cleanup process, say) still counts: give it a second.
        await new Promise((r) => setTimeout(r, 1000));
        calls.push(`${side}: ${summarizeCalls(parseProbeLog(fs.readFileSync(probe[side].log, 'utf8')))}`);
      }
      out.push({
        kind: 'row',
        num: 10,
        title: `${client.title} — ${up ? 'runts: warm host auto-started by bin/runts' : 'runts: no host (bin/runts → Node)'}`,
        samples,
        note: `${session.version}. ${hostNote}. Runtime calls per run (probe): ${calls.join('; ')}`,
      });
    } catch (e) {
      ctx.checkAbort(); // interrupted: stop the whole run (after the teardown below), not just this row
      skip(`failed: ${(e as Error).message.split('\n')[0]}`);
    } finally {
      const stopped = await stopOwnHosts(runtsExe, root);
      if (stopped.length > 0) ctx.log(`  ${client.name}: stopped the auto-started host(s) ${stopped.join(', ')}`);
      await session.stop();
    }
  }
  return out;
}
