import { writeBundle } from '../lib/bundles.js';
import type { BenchContext } from '../lib/context.js';
import { viaLabel, type RuntsVia } from '../lib/host.js';
import type { Row, RuntimeName } from '../lib/report.js';
import { mustSucceed, rtSync } from '../lib/runtimes.js';

/**
 * Benchmark 1: `<rt> run --bundle B <id>` of /bin/true in the foreground (create + start + wait + delete inside one
 * command), `iterations` times per runtime, alternating runtimes each iteration. One untimed warm-up per runtime.
 * `via` says how bin/runts runs (the caller starts the warm host for runts' root, and stops it).
 */
export function benchRunTrue(ctx: BenchContext, via: RuntsVia): Row[] {
  const prefix = via === 'no-host' ? 'run' : 'run-host';
  const samples: Partial<Record<RuntimeName, number[]>> = {};
  for (let i = -1; i < ctx.opts.iterations; i++) {
    for (const rt of ctx.runtimes) {
      ctx.checkAbort();
      const id = i < 0 ? `${prefix}-warmup` : `${prefix}-${i}`;
      const args = ['run', '--bundle', writeBundle(ctx.bundles, rt.name, id, ['/bin/true']), id];
      ctx.tracker.add(rt.name, id);
      const r = mustSucceed(rt, args, rtSync(rt, args));
      ctx.tracker.remove(rt.name, id); // a foreground run deletes its container
      if (i >= 0) (samples[rt.name] ??= []).push(r.ms);
    }
    if (i >= 0 && (i + 1) % 10 === 0) ctx.log(`  run (${via}): ${i + 1}/${ctx.opts.iterations}`);
  }
  return [{ kind: 'row', num: 1, title: `\`run\` /bin/true (foreground: create+start+wait+delete) — ${viaLabel(via)}`, samples }];
}
