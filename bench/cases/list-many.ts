import { writeBundle } from '../lib/bundles.js';
import type { BenchContext } from '../lib/context.js';
import { BenchError } from '../lib/errors.js';
import type { Row, RuntimeName } from '../lib/report.js';
import { mustSucceed, rtAsync, rtSync, type RuntimeSpec } from '../lib/runtimes.js';
import { elapsedMs } from '../lib/stats.js';

type Samples = Partial<Record<RuntimeName, number[]>>;

const idOf = (i: number) => `many-${String(i).padStart(5, '0')}`;

/**
 * Runs `verb` for ids [from, to) of one runtime all at once; returns the batch's wall time divided by its size
 * (the effective cost per container at that parallelism).
 */
async function batch(ctx: BenchContext, rt: RuntimeSpec, verb: 'create' | 'delete', from: number, to: number): Promise<number> {
  const ids: string[] = [];
  for (let i = from; i < to; i++) ids.push(idOf(i));
  const argsOf = (id: string) => (verb === 'create' ? ['create', '--bundle', writeBundle(ctx.bundles, rt.name, id, ['/bin/true']), id] : ['delete', id]);
  const all = ids.map((id) => ({ id, args: argsOf(id) }));
  if (verb === 'create') for (const { id } of all) ctx.tracker.add(rt.name, id);
  const t0 = process.hrtime.bigint();
  const results = await Promise.all(all.map(({ args }) => rtAsync(rt, args)));
  const ms = elapsedMs(t0, process.hrtime.bigint());
  all.forEach(({ id, args }, k) => {
    mustSucceed(rt, args, results[k]);
    if (verb === 'delete') ctx.tracker.remove(rt.name, id);
  });
  return ms / ids.length;
}

/** Fills or empties every runtime, `batch` containers at a time, alternating runtimes batch by batch. */
async function fill(ctx: BenchContext, verb: 'create' | 'delete'): Promise<Samples> {
  const samples: Samples = {};
  const { listN, batch: width } = ctx.opts;
  for (let from = 0; from < listN; from += width) {
    for (const rt of ctx.runtimes) {
      ctx.checkAbort();
      (samples[rt.name] ??= []).push(await batch(ctx, rt, verb, from, Math.min(listN, from + width)));
    }
    const done = Math.min(listN, from + width);
    if (done % 100 === 0 || done === listN) ctx.log(`  ${verb}: ${done}/${listN} per runtime`);
  }
  return samples;
}

function countListed(out: string): number {
  return out.split('\n').filter((l) => l.startsWith('many-')).length;
}

/**
 * Benchmark 5: `list` and `state <one id>` with N containers in `created` state per runtime. The containers are
 * created `batch` at a time (alternating runtimes) and deleted the same way; both are reported per container.
 * If anything fails, the caller's `finally` force-deletes every container still tracked.
 */
export async function benchListMany(ctx: BenchContext): Promise<Row[]> {
  const { listN: n, listRuns } = ctx.opts;
  const created = await fill(ctx, 'create');
  const list: Samples = {};
  const state: Samples = {};
  const probe = idOf(Math.floor(n / 2));
  for (let i = -1; i < listRuns; i++) {
    for (const rt of ctx.runtimes) {
      ctx.checkAbort();
      const l = mustSucceed(rt, ['list'], rtSync(rt, ['list'], true));
      if (countListed(l.stdout) !== n) throw new BenchError('sys', `${rt.name} list shows ${countListed(l.stdout)} containers, expected ${n}`);
      const s = mustSucceed(rt, ['state', probe], rtSync(rt, ['state', probe], true));
      const status = (JSON.parse(s.stdout) as { status?: string }).status;
      if (status !== 'created') throw new BenchError('sys', `${rt.name} state ${probe} says "${status}", expected "created"`);
      if (i >= 0) {
        (list[rt.name] ??= []).push(l.ms);
        (state[rt.name] ??= []).push(s.ms);
      }
    }
  }
  const deleted = await fill(ctx, 'delete');
  const b = ctx.opts.batch;
  return [
    { kind: 'row', num: 5, title: `\`list\` with ${n} created containers`, samples: list },
    { kind: 'row', num: 5, title: `\`state <id>\` with ${n} created containers`, samples: state },
    { kind: 'row', num: 5, title: `… filling: \`create\`, ${b} at a time (batch wall ÷ ${b})`, samples: created, note: `${n} per runtime` },
    { kind: 'row', num: 5, title: `… emptying: \`delete\`, ${b} at a time (batch wall ÷ ${b})`, samples: deleted },
  ];
}
