import path from 'node:path';
import { writeBundle } from '../lib/bundles.js';
import type { BenchContext } from '../lib/context.js';
import { BenchError } from '../lib/errors.js';
import { readPidFile, sleepSync } from '../lib/proc.js';
import { formatMs, RUNTIME_NAMES, type Row, type RuntimeName } from '../lib/report.js';
import { mustSucceed, rtSync } from '../lib/runtimes.js';
import { elapsedMs, quantile } from '../lib/stats.js';

/**
 * Benchmark 4 (transient CLI): a `sleep` container is SIGKILLed, then `<rt> state` is run until it says `stopped`;
 * the figure is SIGKILL → the end of that `state`. No runtime runs anything in between, so this is what a caller
 * that polls sees: for all three, one `state` (a stopped init is noticed by the command that looks).
 */
export function benchStopTransient(ctx: BenchContext): Row[] {
  const samples: Partial<Record<RuntimeName, number[]>> = {};
  const n = Math.max(3, Math.ceil(ctx.opts.iterations / 2));
  for (let i = -1; i < n; i++) {
    for (const rt of ctx.runtimes) {
      ctx.checkAbort();
      const id = i < 0 ? 'stopt-warmup' : `stopt-${i}`;
      const pidFile = path.join(ctx.pidDir, `${rt.name}-${id}.pid`);
      const create = ['create', '--bundle', writeBundle(ctx.bundles, rt.name, id, ['/bin/sleep', '1000']), '--pid-file', pidFile, id];
      ctx.tracker.add(rt.name, id);
      mustSucceed(rt, create, rtSync(rt, create));
      mustSucceed(rt, ['start', id], rtSync(rt, ['start', id]));
      const pid = readPidFile(pidFile);
      sleepSync(20);
      const t0 = process.hrtime.bigint();
      process.kill(pid, 'SIGKILL');
      for (;;) {
        const st = mustSucceed(rt, ['state', id], rtSync(rt, ['state', id], true));
        if ((JSON.parse(st.stdout) as { status: string }).status === 'stopped') break;
        if (elapsedMs(t0, process.hrtime.bigint()) > 5000) throw new BenchError('sys', `${rt.name}: container ${id} not stopped 5 s after SIGKILL`);
      }
      if (i >= 0) (samples[rt.name] ??= []).push(elapsedMs(t0, process.hrtime.bigint()));
      mustSucceed(rt, ['delete', id], rtSync(rt, ['delete', id]));
      ctx.tracker.remove(rt.name, id);
    }
  }
  return [
    {
      kind: 'row',
      num: 4,
      title: 'stop detection with the transient CLI: SIGKILL → first `state` that says `stopped`',
      samples,
      note: `p50/p99 ${RUNTIME_NAMES.map((rt) => `${rt} ${formatMs(quantile(samples[rt], 0.5) ?? NaN)}/${formatMs(quantile(samples[rt], 0.99) ?? NaN)}`).join(', ')} ms; one \`state\` call each: the kill is noticed by the command that looks`,
    },
  ];
}
