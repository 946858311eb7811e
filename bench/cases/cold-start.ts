import path from 'node:path';
import { writeBundle } from '../lib/bundles.js';
import type { BenchContext } from '../lib/context.js';
import { BenchError } from '../lib/errors.js';
import { formatMs, type Row, type RuntimeName } from '../lib/report.js';
import { mustSucceed, rtSync, showCommand, timeSync, type RuntimeSpec } from '../lib/runtimes.js';
import { summarize } from '../lib/stats.js';

type Samples = Partial<Record<RuntimeName, number[]>>;

/** Extra commands timed alongside the runtimes so their figures have a floor to compare with. */
export interface ColdStartExtras {
  node: string;
  /** crun without the mount-namespace wrapper (only `--version` works that way on this host). */
  crunDirect: string;
}

/**
 * Benchmark 7: CLI cold start — wall time of `<rt> --version` and of `<rt> state <id>` (one container, created),
 * next to `node -e 0` (the floor for any Node program) and bare `crun --version` (the wrapper's cost). Every
 * command is run `coldRuns` times, all commands alternating, after one untimed warm-up each.
 */
export function benchColdStart(ctx: BenchContext, extras: ColdStartExtras): Row[] {
  const id = 'cold';
  for (const rt of ctx.runtimes) {
    const args = ['create', '--bundle', writeBundle(ctx.bundles, rt.name, id, ['/bin/true']), '--pid-file', path.join(ctx.pidDir, `${rt.name}-${id}.pid`), id];
    ctx.tracker.add(rt.name, id);
    mustSucceed(rt, args, rtSync(rt, args));
  }
  const version: Samples = {};
  const state: Samples = {};
  const nodeFloor: number[] = [];
  const crunDirect: number[] = [];
  const crun = ctx.runtimes.find((r) => r.name === 'crun');
  for (let i = -1; i < ctx.opts.coldRuns; i++) {
    ctx.checkAbort();
    const keep = i >= 0;
    const n = timeSync(extras.node, ['-e', '0'], '/dev/null');
    if (keep) nodeFloor.push(n.ms);
    for (const rt of ctx.runtimes) {
      // `--version` takes no --root: it is the bare binary starting up and exiting.
      const v = mustVersion(rt);
      if (keep) (version[rt.name] ??= []).push(v);
    }
    if (crun) {
      const d = timeSync(extras.crunDirect, ['--version'], crun.errLog);
      if (keep) crunDirect.push(d.ms);
    }
    for (const rt of ctx.runtimes) {
      const s = mustSucceed(rt, ['state', id], rtSync(rt, ['state', id], true));
      if (keep) (state[rt.name] ??= []).push(s.ms);
    }
  }
  for (const rt of ctx.runtimes) {
    mustSucceed(rt, ['delete', '--force', id], rtSync(rt, ['delete', '--force', id]));
    ctx.tracker.remove(rt.name, id);
  }
  const nodeMed = summarize(nodeFloor)?.median;
  const runtsVer = summarize(version.runts)?.median;
  const wrapperCost = (summarize(version.crun)?.median ?? NaN) - (summarize(crunDirect)?.median ?? NaN);
  return [
    { kind: 'row', num: 7, title: '`--version` (cold start)', samples: version },
    { kind: 'row', num: 7, title: '`state <id>` (1 container, created)', samples: state },
    {
      kind: 'row',
      num: 7,
      title: '`node -e 0` (floor for any Node CLI; in the runts column)',
      samples: { runts: nodeFloor },
      note: `runts --version − node -e 0 = ${formatDelta((runtsVer ?? NaN) - (nodeMed ?? NaN))} ms`,
    },
    {
      kind: 'row',
      num: 7,
      title: '`crun --version` without the wrapper (in the crun column)',
      samples: { crun: crunDirect },
      note: `the wrapper adds ≈ ${formatDelta(wrapperCost)} ms to every crun command`,
    },
  ];
}

function mustVersion(rt: RuntimeSpec): number {
  const r = timeSync(rt.exe, ['--version'], rt.errLog);
  if (r.status !== 0) throw new BenchError('sys', `${rt.name}: \`${showCommand(rt.exe, ['--version'])}\` exited ${r.status}; see ${rt.errLog}`);
  return r.ms;
}

/** A difference of medians for a note, or "?" when one side was not measured. */
function formatDelta(ms: number): string {
  return Number.isFinite(ms) ? formatMs(ms) : '?';
}
