import fs from 'node:fs';
import path from 'node:path';
import { nativePort } from '../../src/native/index.js';
import { Store } from '../../src/persistence/store.js';
import { insertContainers } from '../../test/helpers/facts.js';
import { startUi, stopUi } from '../../test/helpers/ui.js';
import type { BenchContext } from '../lib/context.js';
import { BenchError } from '../lib/errors.js';
import type { Entry } from '../lib/report.js';
import { summarize } from '../lib/stats.js';

const CHROMIUM = '/usr/bin/chromium';
/** The targets: the page drawn within 1 s with 1,000 containers, a commit on the page within 100 ms. */
const FIRST_PAINT_TARGET_MS = 1000;
const UPDATE_TARGET_MS = 100;
const N = 1000;
const idOf = (i: number) => `ui-${String(i).padStart(4, '0')}`;

/**
 * Benchmark 8, the visualizer (runts only): `runts ui` on a root holding 1,000 containers — records inserted into
 * its store as `create` would have stored them (test/helpers/facts.ts), so no 1,000 processes — opened in Chromium
 * (playwright-core). First paint: ms from navigation to the first container list drawn with data (the page marks
 * it, `body[data-first-paint]`), a fresh page each run. Update latency: a transition committed to the store by this
 * process (a container toggled between running and paused) until the page's row shows it (a MutationObserver in the
 * page notes the time; same clock). Each row's note says whether the target is met.
 */
export async function benchUi(ctx: BenchContext, runtsBin: string): Promise<Entry[]> {
  if (!fs.existsSync(CHROMIUM)) {
    return [{ kind: 'placeholder', num: 8, title: 'visualizer', reason: `${CHROMIUM} is missing (apt-get install chromium)` }];
  }
  const { chromium } = await import('playwright-core');
  const paints = ctx.opts.smoke ? 3 : 10;
  const updates = ctx.opts.smoke ? 5 : 30;
  const root = path.join(ctx.roots.dir, 'ui');
  fs.mkdirSync(root, { recursive: true });
  insertContainers(root, Array.from({ length: N }, (_, i) => ({ id: idOf(i), status: i % 2 === 0 ? 'running' : 'paused' })));
  const ui = await startUi(runtsBin, root, path.join(ctx.workDir, 'logs', 'runts-ui.err')).catch((e: Error) => {
    throw new BenchError('sys', e.message);
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  const store = Store.open(root, nativePort());
  try {
    const firstPaint: number[] = [];
    for (let i = -1; i < paints; i++) {
      ctx.checkAbort();
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(ui.url);
      await page.waitForSelector('body[data-first-paint]', { timeout: 30_000 });
      if (i >= 0) firstPaint.push(Number(await page.getAttribute('body', 'data-first-paint')));
      await page.close();
    }

    const id = idOf(0);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${ui.url}#id=${id}`);
    await page.waitForSelector(`#containers .row[data-id="${id}"]`);
    await page.waitForSelector('#live[data-state="open"]');
    const latency: number[] = [];
    for (let i = -1; i < updates; i++) {
      ctx.checkAbort();
      const rec = store.get(id)!;
      const value = rec.snapshot as { value: Record<string, string> };
      const to = 'running' in value.value ? 'paused' : 'running';
      await page.evaluate(
        ([rowId, status]) => {
          const w = window as unknown as { seenAt?: number };
          w.seenAt = undefined;
          const sel = `#containers .row[data-id="${rowId}"][data-status="${status}"]`;
          const obs = new MutationObserver(() => {
            if (document.querySelector(sel)) {
              w.seenAt = performance.timeOrigin + performance.now();
              obs.disconnect();
            }
          });
          obs.observe(document.getElementById('containers')!, { subtree: true, childList: true, attributes: true });
        },
        [id, to],
      );
      const from = to === 'paused' ? 'running.idle' : 'paused.idle';
      // Timed from before the write: other processes see a commit before its flush, so the page may see it before
      // update() returns; the figure includes the write itself (an upper bound).
      const committed = performance.timeOrigin + performance.now();
      store.update(id, rec.version, { snapshot: { ...value, value: { [to]: 'idle' } } }, [
        { id, from, to: `${to}.idle`, event: to === 'paused' ? 'container.pause' : 'container.resume', time: new Date().toISOString(), pid: process.pid },
      ]);
      await page.waitForFunction(() => (window as unknown as { seenAt?: number }).seenAt !== undefined, undefined, { timeout: 10_000 });
      const seen = await page.evaluate(() => (window as unknown as { seenAt: number }).seenAt);
      if (i >= 0) latency.push(seen - committed);
    }
    const met = (samples: number[], target: number) => `median ${summarize(samples)!.median.toFixed(0)} ms: target ≤ ${target} ms ${summarize(samples)!.median <= target ? 'met' : 'NOT met'}`;
    return [
      { kind: 'row', num: 8, title: `visualizer first paint, ${N} containers`, samples: { runts: firstPaint }, note: met(firstPaint, FIRST_PAINT_TARGET_MS) },
      { kind: 'row', num: 8, title: 'visualizer update, commit → page', samples: { runts: latency }, note: met(latency, UPDATE_TARGET_MS) },
    ];
  } finally {
    store.close();
    await browser.close().catch(() => undefined);
    await stopUi(ui);
  }
}
