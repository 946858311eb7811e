import fs from 'node:fs';
import path from 'node:path';
import { writeBundle } from '../lib/bundles.js';
import type { BenchContext } from '../lib/context.js';
import { BenchError } from '../lib/errors.js';
import { startHost, stopHost } from '../lib/host.js';
import { formatMs, type Row, type RuntimeName } from '../lib/report.js';
import { mustSucceed, rtAsync, rtSync, timeSync, type RuntimeSpec, type Timed } from '../lib/runtimes.js';
import { summarize } from '../lib/stats.js';

type Samples = Partial<Record<RuntimeName, number[]>>;

const idOf = (i: number) => `front-${String(i).padStart(4, '0')}`;

/** Creates (or deletes) ids [0, n) of one runtime, `width` at a time. */
async function fill(ctx: BenchContext, rt: RuntimeSpec, verb: 'create' | 'delete', n: number): Promise<void> {
  for (let from = 0; from < n; from += ctx.opts.batch) {
    ctx.checkAbort();
    const ids = Array.from({ length: Math.min(n, from + ctx.opts.batch) - from }, (_, k) => idOf(from + k));
    const argsOf = (id: string) => (verb === 'create' ? ['create', '--bundle', writeBundle(ctx.bundles, rt.name, id, ['/bin/true']), id] : ['delete', id]);
    if (verb === 'create') for (const id of ids) ctx.tracker.add(rt.name, id);
    const results = await Promise.all(ids.map((id) => rtAsync(rt, argsOf(id))));
    ids.forEach((id, k) => {
      mustSucceed(rt, argsOf(id), results[k]!);
      if (verb === 'delete') ctx.tracker.remove(rt.name, id);
    });
  }
}

function checkState(rt: RuntimeSpec, t: Timed, id: string): void {
  const status = (JSON.parse(t.stdout) as { status?: string }).status;
  if (status !== 'created') throw new BenchError('sys', `${rt.name} state ${id} says "${status}", expected "created"`);
}

/**
 * Benchmark 9: the native front (bin/runts). With N containers (created) per runtime:
 * - without a host: `runts state` (the front finds no socket and execs Node) next to `node bin/runts.cjs state`
 *   (what bin/runts was before the front): the difference is what the front adds when no host runs;
 * - with a warm host serving runts' root (`runts supervise --auto`, started here rather than auto-started so every
 *   timed command goes through it): `state <id>` and `list`, alternating with runc and crun.
 * - the launch alone, `node` on PATH being /bin/true: bin/runts beside a `#!/usr/bin/env node` script (4 × runs),
 *   which isolates the front's own cost from Node's start-up noise.
 * Every command is run `coldRuns` times after one untimed warm-up.
 */
export async function benchFront(ctx: BenchContext, extras: { node: string }): Promise<Row[]> {
  const n = ctx.opts.frontN;
  const runs = ctx.opts.coldRuns;
  const runts = ctx.runtimes.find((r) => r.name === 'runts');
  if (!runts) throw new BenchError('bad_config', 'benchmark 9 needs runts among the runtimes');
  for (const rt of ctx.runtimes) await fill(ctx, rt, 'create', n);
  const probe = idOf(Math.floor(n / 2));
  const cjs = path.join(path.dirname(runts.exe), 'runts.cjs');

  const front: number[] = [];
  const direct: number[] = [];
  for (let i = -1; i < runs; i++) {
    ctx.checkAbort();
    const f = mustSucceed(runts, ['state', probe], rtSync(runts, ['state', probe], true));
    checkState(runts, f, probe);
    const d = timeSync(extras.node, [cjs, '--root', runts.root, 'state', probe], runts.errLog, true);
    if (d.status !== 0) throw new BenchError('sys', `node ${cjs} state ${probe} exited ${d.status}; see ${runts.errLog}`);
    if (i >= 0) {
      front.push(f.ms);
      direct.push(d.ms);
    }
  }

  // The launch alone, with `node` on PATH being /bin/true: bin/runts (front: no socket, execvp("node")) beside a
  // `#!/usr/bin/env node` script (how the old bin/runts started: the kernel runs env, env runs node).
  const fake = path.join(ctx.workDir, 'fake-node');
  fs.mkdirSync(fake, { recursive: true });
  fs.symlinkSync('/bin/true', path.join(fake, 'node'));
  const shebang = path.join(fake, 'runts-shebang');
  fs.writeFileSync(shebang, '#!/usr/bin/env node\n', { mode: 0o755 });
  const fakeEnv = { ...process.env, PATH: `${fake}:${process.env.PATH ?? '/usr/bin:/bin'}` };
  const launchFront: number[] = [];
  const launchShebang: number[] = [];
  for (let i = -1; i < runs * 4; i++) {
    ctx.checkAbort();
    const a = timeSync(runts.exe, ['--root', runts.root, 'state', probe], runts.errLog, false, fakeEnv);
    const b = timeSync(shebang, ['--root', runts.root, 'state', probe], runts.errLog, false, fakeEnv);
    if (a.status !== 0 || b.status !== 0) throw new BenchError('sys', `the launch probe failed (${a.status}, ${b.status}): is ${fake}/node runnable?`);
    if (i >= 0) {
      launchFront.push(a.ms);
      launchShebang.push(b.ms);
    }
  }

  const host = await startHost(extras.node, runts.exe, runts.root);
  const state: Samples = {};
  const list: Samples = {};
  try {
    for (let i = -1; i < runs; i++) {
      for (const rt of ctx.runtimes) {
        ctx.checkAbort();
        const s = mustSucceed(rt, ['state', probe], rtSync(rt, ['state', probe], true));
        checkState(rt, s, probe);
        const l = mustSucceed(rt, ['list', '-q'], rtSync(rt, ['list', '-q'], true));
        const listed = l.stdout.split('\n').filter((x) => x.startsWith('front-')).length;
        if (listed !== n) throw new BenchError('sys', `${rt.name} list shows ${listed} containers, expected ${n}`);
        if (i >= 0) {
          (state[rt.name] ??= []).push(s.ms);
          (list[rt.name] ??= []).push(l.ms);
        }
      }
    }
  } finally {
    await stopHost(host);
  }
  for (const rt of ctx.runtimes) await fill(ctx, rt, 'delete', n);

  const overhead = (summarize(front)?.median ?? NaN) - (summarize(direct)?.median ?? NaN);
  const launch = (summarize(launchFront)?.median ?? NaN) - (summarize(launchShebang)?.median ?? NaN);
  return [
    { kind: 'row', num: 9, title: `\`state <id>\`, warm host (${n} created containers)`, samples: state },
    { kind: 'row', num: 9, title: `\`list -q\`, warm host (${n} created containers)`, samples: list },
    { kind: 'row', num: 9, title: '`state <id>`, no host: bin/runts (front → Node) (runts column)', samples: { runts: front } },
    {
      kind: 'row',
      num: 9,
      title: '`state <id>`, no host: `node bin/runts.cjs` (the entry before the front) (runts column)',
      samples: { runts: direct },
      note: `the front adds ${Number.isFinite(overhead) ? formatMs(overhead) : '?'} ms when no host runs`,
    },
    { kind: 'row', num: 9, title: 'launch only (`node` := /bin/true): bin/runts, no host (runts column)', samples: { runts: launchFront } },
    {
      kind: 'row',
      num: 9,
      title: 'launch only (`node` := /bin/true): a `#!/usr/bin/env node` script, the old bin/runts (runts column)',
      samples: { runts: launchShebang },
      note: `front − shebang = ${Number.isFinite(launch) ? formatMs(launch) : '?'} ms`,
    },
  ];
}
