import path from 'node:path';
import { writeBundle } from '../lib/bundles.js';
import type { BenchContext } from '../lib/context.js';
import { viaLabel, type RuntsVia } from '../lib/host.js';
import { readPidFile, waitExitedSync } from '../lib/proc.js';
import type { Row, RuntimeName } from '../lib/report.js';
import { mustSucceed, rtSync, type RuntimeSpec } from '../lib/runtimes.js';
import { elapsedMs } from '../lib/stats.js';

type Phase = 'cycle' | 'create' | 'start' | 'wait' | 'delete';
const PHASES: Phase[] = ['cycle', 'create', 'start', 'wait', 'delete'];

function oneCycle(ctx: BenchContext, rt: RuntimeSpec, id: string): Record<Phase, number> {
  const bundle = writeBundle(ctx.bundles, rt.name, id, ['/bin/true']);
  const pidFile = path.join(ctx.pidDir, `${rt.name}-${id}.pid`);
  ctx.tracker.add(rt.name, id);
  const createArgs = ['create', '--bundle', bundle, '--pid-file', pidFile, id];
  const create = mustSucceed(rt, createArgs, rtSync(rt, createArgs)).ms;
  const pid = readPidFile(pidFile);
  const start = mustSucceed(rt, ['start', id], rtSync(rt, ['start', id])).ms;
  // Wait on the pid rather than polling `<rt> state`: the figure stays the runtime's own commands, not N spawns of
  // `state` (whose cost is measured on its own in benchmarks 5 and 7).
  const t0 = process.hrtime.bigint();
  waitExitedSync(pid);
  const wait = elapsedMs(t0, process.hrtime.bigint());
  const del = mustSucceed(rt, ['delete', id], rtSync(rt, ['delete', id])).ms;
  ctx.tracker.remove(rt.name, id);
  return { cycle: create + start + wait + del, create, start, wait, delete: del };
}

/**
 * Benchmark 2: create / start / wait-for-stopped / delete of /bin/true as separate commands, `iterations` cycles per
 * runtime, alternating runtimes each iteration. Reports the per-cycle total and each phase. `via` says how bin/runts
 * runs (the caller starts the warm host for runts' root, and stops it).
 */
export function benchCycle(ctx: BenchContext, via: RuntsVia): Row[] {
  const prefix = via === 'no-host' ? 'cycle' : 'cycle-host';
  const samples = Object.fromEntries(PHASES.map((p) => [p, {}])) as Record<Phase, Partial<Record<RuntimeName, number[]>>>;
  for (let i = -1; i < ctx.opts.iterations; i++) {
    for (const rt of ctx.runtimes) {
      ctx.checkAbort();
      const t = oneCycle(ctx, rt, i < 0 ? `${prefix}-warmup` : `${prefix}-${i}`);
      if (i >= 0) for (const p of PHASES) (samples[p][rt.name] ??= []).push(t[p]);
    }
    if (i >= 0 && (i + 1) % 10 === 0) ctx.log(`  cycle (${via}): ${i + 1}/${ctx.opts.iterations}`);
  }
  return [
    { kind: 'row', num: 2, title: `create / start / wait-for-stopped / delete — per cycle — ${viaLabel(via)}`, samples: samples.cycle },
    { kind: 'row', num: 2, title: `… \`create --pid-file\` (${via})`, samples: samples.create },
    { kind: 'row', num: 2, title: `… \`start\` (${via})`, samples: samples.start },
    {
      kind: 'row',
      num: 2,
      title: `… wait for stopped (poll /proc/<pid>) (${via})`,
      samples: samples.wait,
      note: '/bin/true has usually exited before `start` returns',
    },
    { kind: 'row', num: 2, title: `… \`delete\` (${via})`, samples: samples.delete },
  ];
}
