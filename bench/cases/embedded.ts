import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DriverRequest, DriverResult } from '../embedded-driver.js';
import type { BenchContext } from '../lib/context.js';
import { BenchError } from '../lib/errors.js';
import { formatMs, type Row } from '../lib/report.js';
import { quantile, summarize } from '../lib/stats.js';

const BENCH_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
/** Containers killed at once in a burst of benchmark 4. */
const BURST_SIZE = 50;
const REPO = path.dirname(BENCH_DIR);

/**
 * Runs bench/embedded-driver.ts in a fresh process against the install's dist/ and returns its result. Its state
 * root is on the run's tmpfs, or on the disk with `onDisk`.
 */
function drive(ctx: BenchContext, dist: string, mode: DriverRequest['mode'], n: number, more: Partial<DriverRequest> = {}, onDisk = false): DriverResult {
  const name = `embedded-${mode}${onDisk ? '-on-disk' : ''}`;
  const root = path.join(onDisk ? ctx.roots.diskDir : ctx.roots.dir, name);
  const out = path.join(ctx.pidDir, `${name}.json`);
  const req: DriverRequest = { mode, dist, root, bundles: ctx.bundles, n, out, ...more };
  const errLog = path.join(ctx.workDir, 'logs', `${name}.stderr`);
  const errFd = fs.openSync(errLog, 'a');
  try {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(BENCH_DIR, 'embedded-driver.ts'), JSON.stringify(req)], {
      cwd: REPO,
      stdio: ['ignore', 'ignore', errFd],
    });
    if (r.status !== 0) {
      const tail = fs.readFileSync(errLog, 'utf8').trim().split('\n').slice(-3).join(' / ');
      throw new BenchError('sys', `embedded ${mode} benchmark failed (status ${r.status}): ${tail}; see ${errLog}`);
    }
  } finally {
    fs.closeSync(errFd);
  }
  return JSON.parse(fs.readFileSync(out, 'utf8')) as DriverResult;
}

/**
 * Benchmark 3: the create / start / wait / delete cycle of /bin/true through the embedded `Runtime` API in one warm
 * process, alternating every cycle with runc's and crun's `run` of /bin/true (the target compares with crun's).
 * Every root is on the run's tmpfs; a second pass puts runts' root on the disk, where each store commit waits for
 * a disk flush (runc and crun do not flush their state files, so theirs stay on the tmpfs).
 */
export function benchApiCycle(ctx: BenchContext, dist: string): Row[] {
  const more = { others: ctx.runtimes.filter((rt) => rt.name !== 'runts'), warmup: ctx.opts.apiWarmup };
  const r = drive(ctx, dist, 'api', ctx.opts.iterations, more);
  const onDisk = drive(ctx, dist, 'api', ctx.opts.iterations, more, true);
  // From the median the table shows for the row.
  const perSecond = (xs: number[] | undefined) => 1000 / (summarize(xs)?.median ?? Infinity);
  return [
    {
      kind: 'row',
      num: 3,
      title: 'runts: embedded `Runtime` API create/start/wait/delete cycle in one warm process; runc, crun: `run` /bin/true',
      samples: r.samples,
      note: `${perSecond(r.samples.runts).toFixed(0)} containers/s through the API; alternating every cycle; every state root on a tmpfs, as /run is; after ${ctx.opts.apiWarmup} untimed cycles`,
    },
    {
      kind: 'row',
      num: 3,
      title: "… the same with runts' state root on the disk (the run's temp dir: each store commit waits for its flush)",
      samples: onDisk.samples,
      note: `${perSecond(onDisk.samples.runts).toFixed(0)} containers/s; runc and crun again on the tmpfs, alternating`,
    },
  ];
}

/**
 * Benchmark 4 (resident host): SIGKILL of a container's init → `stopped` committed to the store; then bursts of
 * BURST_SIZE inits killed at once (5 bursts, 1 in the smoke run).
 */
export function benchStopResident(ctx: BenchContext, dist: string): Row[] {
  const bursts = { size: BURST_SIZE, count: ctx.opts.iterations >= 20 ? 5 : 1 };
  const r = drive(ctx, dist, 'stop', ctx.opts.iterations, { bursts, warmup: ctx.opts.stopWarmup });
  return [
    {
      kind: 'row',
      num: 4,
      title: 'stop detection with the resident host: SIGKILL → `stopped` in the store (visible to every process)',
      samples: r.samples,
      note: `p50 ${formatMs(quantile(r.samples.runts, 0.5) ?? NaN)} ms, p99 ${formatMs(quantile(r.samples.runts, 0.99) ?? NaN)} ms, after ${ctx.opts.stopWarmup} untimed stops; runc and crun have no resident host; the seed polled every 100 ms (50 ms on average, 100 ms at worst)`,
    },
    {
      kind: 'row',
      num: 4,
      title: `… a burst: SIGKILL of ${BURST_SIZE} inits at once → the last of them \`stopped\` in the store`,
      samples: { runts: r.burstSamples ?? [] },
      note: `one sample per burst; ${formatMs((quantile(r.burstSamples, 0.5) ?? NaN) / BURST_SIZE)} ms per container (the reaper records the exits one SIGCHLD finds in one store transaction)`,
    },
  ];
}

/** Benchmark 6: N sleeping containers under one resident host. */
export function benchResidentMany(ctx: BenchContext, dist: string): Row[] {
  const n = ctx.opts.listN;
  const r = drive(ctx, dist, 'heap', n);
  const kb = (x: number | undefined) => (x ?? NaN).toFixed(1);
  const s = (x: number | undefined) => ((x ?? NaN) / 1000).toFixed(1);
  return [
    {
      kind: 'row',
      num: 6,
      title: `${n} sleeping containers under one resident host: \`run --detach\` of each`,
      samples: r.samples,
      note: `heap ${kb(r.heapPerContainerKB)} KB and RSS ${kb(r.rssPerContainerKB)} KB per idle container (resident process; each container's gofer is a process of its own); create all ${s(r.createAllMs)} s`,
    },
    {
      kind: 'row',
      num: 6,
      title: `… \`delete --force\` of each of the ${n}`,
      samples: { runts: r.deleteSamples ?? [] },
      note: `delete all ${s(r.deleteAllMs)} s`,
    },
  ];
}
