/**
 * Side-by-side benchmarks of runts, runc and crun (see bench/README.md).
 *
 *   node --import tsx bench/run.ts            # full run (several minutes), writes bench/last-run.md
 *   node --import tsx bench/run.ts --smoke    # small sizes, writes bench/last-smoke.md
 *   node --import tsx bench/run.ts --source head   # measure the last commit, built apart from the working tree
 *
 * Runtimes alternate per iteration (runts, runc, crun, runts, …) so machine noise spreads evenly over them.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchColdStart } from './cases/cold-start.js';
import { benchClients } from './cases/clients.js';
import { benchCycle } from './cases/cycle.js';
import { benchFront } from './cases/front.js';
import { benchListMany } from './cases/list-many.js';
import { benchApiCycle, benchResidentMany, benchStopResident } from './cases/embedded.js';
import { benchStopTransient } from './cases/stop-transient.js';
import { benchRunTrue } from './cases/run-true.js';
import { benchUi } from './cases/ui.js';
import { prepareBundles } from './lib/bundles.js';
import { Tracker, forceDeleteAll, removeCgroupTree } from './lib/cleanup.js';
import type { BenchContext, BenchOptions } from './lib/context.js';
import { BenchError } from './lib/errors.js';
import { startHost, stopHost, type RuntsVia } from './lib/host.js';
import { RUNTIME_NAMES, renderMarkdown, renderRowText, type Entry, type RunMeta } from './lib/report.js';
import { which, type RuntimeSpec } from './lib/runtimes.js';
import { installHead, installWorktree, type RuntsInstall } from './lib/runts-install.js';
import { mountStateRoots, type StateRoots } from './lib/state-roots.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(BENCH_DIR);
const CRUN_WRAPPER = path.join(BENCH_DIR, 'crun-wrapper.sh');
const CASES = ['run', 'cycle', 'api', 'stop', 'list', 'resident', 'cold', 'ui', 'front', 'clients'] as const;
const HOST_MODES = ['none', 'warm', 'both'] as const;
type HostMode = (typeof HOST_MODES)[number];
type Case = (typeof CASES)[number];

const USAGE = `usage: node --import tsx bench/run.ts [--smoke] [--only ${CASES.join(',')}] [--iterations N] [--list-n N]
       [--api-warmup N] [--stop-warmup N] [--list-runs N] [--cold-runs N] [--front-n N] [--client-runs N] [--batch N] [--host none|warm|both] [--source worktree|head]
       [--no-build] [--out FILE]`;

interface Cli {
  opts: BenchOptions;
  only: Set<Case>;
  /** Benchmarks 1 and 2: runts without a host, through a warm host, or both (each with its own runc/crun runs). */
  host: HostMode;
  build: boolean;
  source: 'worktree' | 'head';
  out: string;
}

function parseCli(argv: string[]): Cli {
  const { values } = parseArgs({
    args: argv,
    options: {
      smoke: { type: 'boolean', default: false },
      only: { type: 'string' },
      iterations: { type: 'string' },
      'list-n': { type: 'string' },
      'api-warmup': { type: 'string' },
      'stop-warmup': { type: 'string' },
      'list-runs': { type: 'string' },
      'cold-runs': { type: 'string' },
      'front-n': { type: 'string' },
      'client-runs': { type: 'string' },
      host: { type: 'string', default: 'both' },
      batch: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      source: { type: 'string', default: 'worktree' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const smoke = values.smoke === true;
  const int = (name: string, v: string | undefined, dflt: number): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new BenchError('bad_config', `--${name} must be a positive integer, got "${v}"`);
    return n;
  };
  const only = new Set<Case>();
  for (const c of (values.only ?? CASES.join(',')).split(',')) {
    if (!(CASES as readonly string[]).includes(c)) throw new BenchError('bad_config', `--only: unknown benchmark "${c}"; use ${CASES.join(',')}`);
    only.add(c as Case);
  }
  const source = values.source;
  if (source !== 'worktree' && source !== 'head') throw new BenchError('bad_config', `--source must be worktree or head, got "${source}"`);
  const host = values.host as HostMode;
  if (!HOST_MODES.includes(host)) throw new BenchError('bad_config', `--host must be none, warm or both, got "${values.host}"`);
  return {
    source,
    host,
    opts: {
      smoke,
      iterations: int('iterations', values.iterations, smoke ? 5 : 50),
      listN: int('list-n', values['list-n'], smoke ? 20 : 1000),
      apiWarmup: int('api-warmup', values['api-warmup'], smoke ? 10 : 500),
      stopWarmup: int('stop-warmup', values['stop-warmup'], smoke ? 5 : 200),
      listRuns: int('list-runs', values['list-runs'], smoke ? 3 : 10),
      coldRuns: int('cold-runs', values['cold-runs'], smoke ? 5 : 30),
      frontN: int('front-n', values['front-n'], smoke ? 20 : 100),
      clientRuns: int('client-runs', values['client-runs'], smoke ? 3 : 20),
      batch: int('batch', values.batch, 8),
    },
    only,
    build: values['no-build'] !== true,
    out: values.out ?? path.join(BENCH_DIR, smoke ? 'last-smoke.md' : 'last-run.md'),
  };
}

function fmtLoad(l: number[]): string {
  return l.map((x) => x.toFixed(1)).join(' / ');
}

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return r.status === 0 ? r.stdout.trim().split('\n')[0] : `(${cmd} ${args.join(' ')} failed)`;
}

function preflight(): { runc: string; crun: string; node: string } {
  if (process.getuid?.() !== 0) throw new BenchError('sys', 'the benchmarks create real containers: run them as root');
  which('unshare', 'apt-get install -y util-linux');
  return { runc: which('runc', 'apt-get install -y runc'), crun: which('crun', 'apt-get install -y crun'), node: process.execPath };
}

function describeCommands(tools: { runc: string; crun: string; node: string }): string[] {
  return [
    `runts = TMP/runts/bin/runts   (private build, see "runts" above; #!/usr/bin/env node → ${process.execPath})`,
    `runc  = ${tools.runc}`,
    `crun  = ${CRUN_WRAPPER}   (unshare -m, tmpfs over /sys/fs/cgroup/unified, exec ${tools.crun})`,
    `RT --root ROOT run --bundle BUNDLE ID                                  # 1`,
    `RT --root ROOT create --bundle BUNDLE --pid-file PIDFILE ID             # 2`,
    `RT --root ROOT start ID;  poll /proc/PID/stat until Z or gone;  RT --root ROOT delete ID`,
    `the same with sleep:  create, start, RT --root ROOT kill ID KILL, poll /proc/PID/stat, delete   # 2`,
    `1 and 2 "warm host" rows: ${tools.node} TMP/runts/bin/runts.cjs --root ROOT supervise --auto runs beside them (started by the harness); runc, crun timed again beside it`,
    `runts: Runtime.create → start → wait for the exit → delete({force}), in one process after N untimed cycles (--api-warmup); runc, crun: RT run   # 3`,
    `runts: rt.serve() + run({detach}) of sleep; SIGKILL; poll the store until stopped; after N untimed stops (--stop-warmup)    # 4 (resident host)`,
    `RT create + start (sleep); SIGKILL; RT --root ROOT state ID until "stopped"             # 4 (transient CLI)`,
    `RT --root ROOT create --bundle BUNDLE ID   (N per runtime, BATCH at a time)   # 5`,
    `RT --root ROOT list;  RT --root ROOT state ID;  RT --root ROOT delete ID   (N, BATCH at a time)`,
    `runts: rt.serve() + N × run({detach}) of sleep, heap/RSS before and after, N × delete({force})   # 6`,
    `RT --version;  RT --root ROOT state ID;  ${tools.node} -e 0;  ${tools.crun} --version   # 7`,
    `runts without a host: RT --root ROOT state ID  vs  ${tools.node} TMP/runts/bin/runts.cjs --root ROOT state ID   # 9`,
    `runts with a warm host (${tools.node} TMP/runts/bin/runts.cjs --root ROOT supervise --auto): RT --root ROOT state ID;  RT --root ROOT list -q   (N created per runtime)   # 9`,
    `ctr --address SOCK -n NS run --rm --runtime io.containerd.runc.v2 --runc-binary RT --fifo-dir DIR IMAGE ID /bin/true   (private containerd)   # 10`,
    `podman --root … --runroot … --storage-driver vfs --cgroup-manager cgroupfs --runtime RT run --rm --name ID --network none --cgroup-parent CG IMAGE /bin/true   # 10`,
    `docker run --rm --name ID --runtime runts|runc --network none IMAGE /bin/true   (private dockerd, --add-runtime runts=RT)   # 10`,
  ];
}

async function main(): Promise<number> {
  const cli = parseCli(process.argv.slice(2));
  // bin/runts auto-starts a warm host for a root on first use: benchmarks 1-7 measure each command as run without
  // one (as before the front), and benchmark 9 starts its host itself. RUNTS_AUTOSTART=1 measures the default instead.
  // Benchmark 10's clients (their daemons, shims, conmon) get the environment as it was: auto-start on by default.
  const clientEnv: NodeJS.ProcessEnv = { ...process.env };
  process.env.RUNTS_AUTOSTART ??= '0';
  const tools = preflight();

  let aborted: string | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (aborted) process.exit(130); // second signal: give up on cleanup
    aborted = sig;
    process.stderr.write(`\n${sig}: stopping after the current command, then cleaning up (send again to quit at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-bench-'));
  const log = (msg: string) => process.stderr.write(msg + '\n');
  let install: RuntsInstall;
  try {
    install = cli.source === 'head' ? installHead(REPO, workDir, log) : installWorktree(REPO, workDir, cli.build, log);
  } catch (e) {
    fs.rmSync(workDir, { recursive: true, force: true });
    throw e;
  }
  const runtsBin = install.bin;
  const runtsVersion = firstLine(runtsBin, ['--version']);
  let roots: StateRoots;
  try {
    roots = mountStateRoots(workDir);
  } catch (e) {
    fs.rmSync(workDir, { recursive: true, force: true });
    throw e;
  }
  const logs = path.join(workDir, 'logs');
  const pidDir = path.join(workDir, 'pids');
  fs.mkdirSync(logs);
  fs.mkdirSync(pidDir);
  const exe = { runts: runtsBin, runc: tools.runc, crun: CRUN_WRAPPER };
  const runtimes: RuntimeSpec[] = RUNTIME_NAMES.map((name) => {
    const root = path.join(roots.dir, name);
    fs.mkdirSync(root);
    return { name, exe: exe[name], root, errLog: path.join(logs, `${name}.stderr`) };
  });
  const tracker = new Tracker();
  const cgroupPrefix = `/runts-bench-${process.pid}`;
  const entries: Entry[] = [];
  let failure: unknown;
  const started = new Date();
  const loadAtStart = os.loadavg();
  try {
    const ctx: BenchContext = {
      opts: cli.opts,
      runtimes,
      bundles: prepareBundles(REPO, runtsBin, workDir, cgroupPrefix),
      tracker,
      workDir,
      roots,
      pidDir,
      checkAbort: () => {
        if (aborted) throw new BenchError('sys', `interrupted by ${aborted}`);
      },
      log,
    };
    const record = (rows: Entry[]) => {
      entries.push(...rows);
      for (const r of rows) process.stdout.write(renderRowText(r) + '\n');
    };
    const { iterations, listN, listRuns, coldRuns, batch } = cli.opts;
    // Benchmarks 1 and 2 once per way bin/runts can run them (--host): without a host, then through a warm host for
    // runts' root that the harness starts (and stops) around the second pass; runc and crun run again beside it.
    const vias: RuntsVia[] = cli.host === 'none' ? ['no-host'] : cli.host === 'warm' ? ['warm-host'] : ['no-host', 'warm-host'];
    const runtsSpec = runtimes.find((r) => r.name === 'runts')!;
    const withVia = async (via: RuntsVia, bench: () => Entry[]): Promise<Entry[]> => {
      if (via === 'no-host') return bench();
      const host = await startHost(tools.node, runtsSpec.exe, runtsSpec.root);
      try {
        return bench();
      } finally {
        await stopHost(host);
      }
    };
    for (const via of cli.only.has('run') ? vias : []) {
      log(`[1] run /bin/true × ${iterations} per runtime (${via})`);
      record(await withVia(via, () => benchRunTrue(ctx, via)));
    }
    for (const via of cli.only.has('cycle') ? vias : []) {
      log(`[2] create/start/wait/delete of /bin/true, then create/start/kill/wait/delete of sleep, × ${iterations} per runtime (${via})`);
      record(await withVia(via, () => benchCycle(ctx, via)));
    }
    const dist = path.join(path.dirname(path.dirname(runtsBin)), 'dist');
    if (cli.only.has('api')) {
      log(`[3] embedded API cycle × ${iterations}, alternating with runc/crun run`);
      record(benchApiCycle(ctx, dist));
    }
    if (cli.only.has('stop')) {
      log(`[4] stop detection: resident host × ${iterations}, transient CLI × ${Math.max(3, Math.ceil(iterations / 2))} per runtime`);
      record(benchStopResident(ctx, dist));
      record(benchStopTransient(ctx));
    }
    if (cli.only.has('list')) {
      log(`[5] list/state with ${listN} containers per runtime (${batch} at a time), ${listRuns} runs`);
      record(await benchListMany(ctx));
    }
    if (cli.only.has('resident')) {
      log(`[6] ${listN} sleeping containers under one resident host`);
      record(benchResidentMany(ctx, dist));
    }
    if (cli.only.has('cold')) {
      log(`[7] CLI cold start × ${coldRuns}`);
      record(benchColdStart(ctx, { node: tools.node, crunDirect: tools.crun }));
    }
    if (cli.only.has('ui')) {
      log('[8] visualizer: first paint with 1000 containers, update latency (Chromium)');
      record(await benchUi(ctx, runtsBin));
    }
    if (cli.only.has('front')) {
      log(`[9] the native front: state without a host, state/list with a warm host, ${cli.opts.frontN} containers per runtime, × ${coldRuns}`);
      record(await benchFront(ctx, { node: tools.node }));
    }
    if (cli.only.has('clients')) {
      log(`[10] real clients (ctr, podman, docker) × ${cli.opts.clientRuns} per runtime, runts vs runc`);
      record(await benchClients(ctx, { env: clientEnv, runc: tools.runc }));
    }
  } catch (e) {
    failure = e;
  } finally {
    if (tracker.size > 0) {
      log(`cleanup: force-deleting ${tracker.size} container(s)…`);
      await forceDeleteAll(runtimes, tracker, cli.opts.batch);
    }
    const leftCgroups = await removeCgroupTree(cgroupPrefix);
    for (const rt of runtimes) for (const id of tracker.ids(rt.name)) log(`warning: ${rt.name} container ${id} could not be deleted (root ${rt.root})`);
    for (const dir of leftCgroups) log(`warning: cgroup ${dir} could not be removed`);
    if (failure === undefined && tracker.size === 0) {
      roots.release();
      fs.rmSync(workDir, { recursive: true, force: true });
    } else log(`kept ${workDir} (runtime stderr in ${logs}; state roots on the tmpfs at ${roots.dir}: umount it when done)`);
  }

  const { iterations, listN, listRuns, coldRuns, batch } = cli.opts;
  const mem = `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`;
  const meta: RunMeta = {
    title: `runts vs runc vs crun${cli.opts.smoke ? ' (smoke run)' : ''}`,
    facts: [
      ['date', started.toISOString()],
      ['machine', `${os.type()} ${os.release()}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${mem} RAM`],
      ['cgroups', fs.existsSync('/sys/fs/cgroup/unified') ? 'hybrid (v1 controllers + cgroup2 at /sys/fs/cgroup/unified)' : 'see /proc/mounts'],
      ['runts', `${runtsVersion}, ${install.origin}`],
      ['runc', firstLine(tools.runc, ['--version'])],
      ['crun', firstLine(tools.crun, ['--version'])],
      ['node', process.version],
      ['load average (1/5/15 min)', `start ${fmtLoad(loadAtStart)}, end ${fmtLoad(os.loadavg())} — other work on the machine inflates every figure`],
      ['build', install.build],
      ['sizes', `iterations ${iterations} (runts ${cli.host === 'both' ? 'without a host and through a warm host' : cli.host === 'warm' ? 'through a warm host' : 'without a host'} for 1 and 2), client runs ${cli.opts.clientRuns}, API warm-up ${cli.opts.apiWarmup} cycles, stop warm-up ${cli.opts.stopWarmup} stops, list N ${listN} (batch ${batch}, ${listRuns} runs), cold-start runs ${coldRuns}; benchmarks: ${[...cli.only].join(', ')}`],
      ...(failure === undefined ? [] : ([['FAILED', (failure as Error).message]] as [string, string][])),
    ],
    commands: describeCommands(tools),
    notes: [
      'Wall-clock time per command (process.hrtime.bigint around child_process.spawnSync), in milliseconds: median (min–max) over n runs per runtime.',
      'Runtimes alternate every iteration (runts, runc, crun, runts, …); each has its own --root on a tmpfs of the run (as /run, where all three keep their state by default, is on a standard Debian 12 system); benchmark 3 runs a second time with runts\' root on the disk. Benchmarks 1, 2, 5 (list/state) and 7 start with one untimed warm-up per runtime.',
      'Each container gets its own bundle (config.json from `runts spec`: terminal false, root.readonly true, ociVersion 1.0.2 because crun 1.8.1 rejects 1.2.0) over one shared busybox rootfs, and its own cgroupsPath /runts-bench-PID/RUNTIME/ID.',
      'stdin/stdout are /dev/null and stderr a file for every command that starts a container (a pipe would be inherited by the container and keep the caller waiting).',
      'crun figures include the wrapper (unshare + sh + tmpfs mount), measured on its own in row 7 (`crun --version` without the wrapper).',
      'Ratios are of medians; > 1 means runts is slower.',
      ...(cli.only.has('clients')
        ? [
            'Benchmark 10 (real clients): runts vs runc only, alternating every iteration, after two untimed runs per runtime; the runtime keeps its state where the client points it (its --root, not the tmpfs above), and runts has the warm host that bin/runts auto-starts for that root during the first warm-up (the clients get the environment without the harness\'s RUNTS_AUTOSTART=0); the note says which root, which host, and the runtime calls of one untimed probe run.',
          ]
        : []),
    ],
  };
  const md = renderMarkdown(meta, entries);
  process.stdout.write('\n' + md);
  fs.writeFileSync(cli.out, md);
  log(`wrote ${cli.out}`);
  if (failure !== undefined) {
    log(`bench failed: ${(failure as Error).message}`);
    return 1;
  }
  return aborted ? 130 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
