import path from 'node:path';
import { writeBundle } from '../lib/bundles.js';
import type { BenchContext } from '../lib/context.js';
import { viaLabel, type RuntsVia } from '../lib/host.js';
import { readPidFile, waitExitedSync } from '../lib/proc.js';
import type { Row, RuntimeName } from '../lib/report.js';
import { mustSucceed, rtSync, type RuntimeSpec } from '../lib/runtimes.js';
import { elapsedMs } from '../lib/stats.js';

type Phase = 'cycle' | 'create' | 'start' | 'kill' | 'wait' | 'delete';

/** /bin/true, which ends by itself, or `sleep`, which a `kill` (SIGKILL) ends: the create/start/kill/delete target. */
type Program = 'true' | 'sleep';
const ARGS: Record<Program, string[]> = { true: ['/bin/true'], sleep: ['/bin/sleep', '1000'] };
const PHASES: Record<Program, Phase[]> = { true: ['cycle', 'create', 'start', 'wait', 'delete'], sleep: ['cycle', 'create', 'start', 'kill', 'wait', 'delete'] };

function oneCycle(ctx: BenchContext, rt: RuntimeSpec, id: string, program: Program): Partial<Record<Phase, number>> {
  const bundle = writeBundle(ctx.bundles, rt.name, id, ARGS[program]);
  const pidFile = path.join(ctx.pidDir, `${rt.name}-${id}.pid`);
  ctx.tracker.add(rt.name, id);
  const createArgs = ['create', '--bundle', bundle, '--pid-file', pidFile, id];
  const create = mustSucceed(rt, createArgs, rtSync(rt, createArgs)).ms;
  const pid = readPidFile(pidFile);
  const start = mustSucceed(rt, ['start', id], rtSync(rt, ['start', id])).ms;
  const kill = program === 'sleep' ? mustSucceed(rt, ['kill', id, 'KILL'], rtSync(rt, ['kill', id, 'KILL'])).ms : 0;
  // Wait on the pid rather than polling `<rt> state`: the figure stays the runtime's own commands, not N spawns of
  // `state` (whose cost is measured on its own in benchmarks 5 and 7).
  const t0 = process.hrtime.bigint();
  waitExitedSync(pid);
  const wait = elapsedMs(t0, process.hrtime.bigint());
  const del = mustSucceed(rt, ['delete', id], rtSync(rt, ['delete', id])).ms;
  ctx.tracker.remove(rt.name, id);
  const cycle = create + start + kill + wait + del;
  return program === 'sleep' ? { cycle, create, start, kill, wait, delete: del } : { cycle, create, start, wait, delete: del };
}

function cycles(ctx: BenchContext, via: RuntsVia, program: Program): Row[] {
  const prefix = `${program === 'true' ? 'cycle' : 'kill'}${via === 'no-host' ? '' : '-host'}`;
  const phases = PHASES[program];
  const samples = Object.fromEntries(phases.map((p) => [p, {}])) as Record<Phase, Partial<Record<RuntimeName, number[]>>>;
  for (let i = -1; i < ctx.opts.iterations; i++) {
    for (const rt of ctx.runtimes) {
      ctx.checkAbort();
      const t = oneCycle(ctx, rt, i < 0 ? `${prefix}-warmup` : `${prefix}-${i}`, program);
      if (i >= 0) for (const p of phases) (samples[p][rt.name] ??= []).push(t[p]!);
    }
    if (i >= 0 && (i + 1) % 10 === 0) ctx.log(`  ${prefix}: ${i + 1}/${ctx.opts.iterations}`);
  }
  const what =
    program === 'true' ? 'create / start / wait-for-stopped / delete of /bin/true' : 'create / start / `kill KILL` / wait-for-stopped / delete of `sleep`';
  const title: Record<Phase, string> = {
    cycle: `${what} — per cycle — ${viaLabel(via)}`,
    create: `… \`create --pid-file\` (${via})`,
    start: `… \`start\` (${via})`,
    kill: `… \`kill KILL\` (${via})`,
    wait: `… wait for stopped (poll /proc/<pid>) (${via})`,
    delete: `… \`delete\` (${via})`,
  };
  return phases.map((p) => ({
    kind: 'row',
    num: 2,
    title: title[p],
    samples: samples[p],
    ...(p === 'wait' && program === 'true' ? { note: '/bin/true has usually exited before `start` returns' } : {}),
  }));
}

/**
 * Benchmark 2: create / start / wait-for-stopped / delete of /bin/true as separate commands, then the same with a
 * `sleep` ended by `kill <id> KILL` (the create / start / kill / delete target), `iterations` cycles per runtime
 * each, alternating runtimes every iteration. Reports the per-cycle total and each phase. `via` says how bin/runts
 * runs (the caller starts the warm host for runts' root, and stops it).
 */
export function benchCycle(ctx: BenchContext, via: RuntsVia): Row[] {
  return [...cycles(ctx, via, 'true'), ...cycles(ctx, via, 'sleep')];
}
