import type { Command } from 'commander';
import { withRuntime } from './context.js';

/** How often a streaming `events` looks for new OOM kills. */
const OOM_POLL_MS = 100;

/** "5s", "500ms", "1m" or a number of seconds. */
function parseInterval(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (!m) throw new Error(`invalid --interval "${text}": use e.g. 5s or 500ms`);
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
}

export function registerEvents(program: Command): void {
  program
    .command('events')
    .description(
      'print container events as JSON lines: stats every --interval until it stops (as runc), once with --stats, ' +
        'or with --transitions each statechart move and exit as it happens, until the container is deleted',
    )
    .argument('<container-id>')
    .option('--stats', 'print one stats object and exit')
    .option('--interval <duration>', 'time between stats lines', '5s')
    .option('--transitions', 'stream {"type":"transition",...} and {"type":"exit",...} lines instead of stats')
    .action(async (id: string, opts, cmd: Command) => {
      await withRuntime(cmd, async (rt) => {
        if (opts.transitions) {
          if (opts.stats) throw new Error('--stats and --transitions exclude each other: pick one');
          const fullId = (await rt.state(id)).id;
          for await (const ev of rt.events({ id: fullId })) {
            process.stdout.write(JSON.stringify(ev) + '\n');
            if (ev.type === 'transition' && ev.to === 'stopped.deleted') return;
          }
          return;
        }
        const interval = parseInterval(opts.interval);
        const { setTimeout: sleep } = await import('node:timers/promises');
        const fullId = (await rt.state(id)).id;
        const print = (ev: object) => process.stdout.write(JSON.stringify(ev) + '\n');
        // runc also reports each OOM kill as {"type":"oom"}: the cgroup's counter is read every OOM_POLL_MS between
        // stats lines, and once more when the container stopped (an OOM-killed init is how it usually stops).
        let oomKills = opts.stats ? 0 : await rt.oomKills(fullId);
        const reportOom = async () => {
          const now = await rt.oomKills(fullId);
          if (now > oomKills) print({ type: 'oom', id: fullId });
          oomKills = now;
        };
        for (;;) {
          let data;
          try {
            data = await rt.stats(fullId);
          } catch (e) {
            // Streaming ends when the container stops (its cgroup is gone or emptied).
            if (!opts.stats && (e as { code?: string }).code === 'bad_state') return reportOom();
            throw e;
          }
          print({ type: 'stats', id: fullId, data });
          if (opts.stats) return;
          for (let waited = 0; waited < interval; waited += OOM_POLL_MS) {
            await sleep(Math.min(OOM_POLL_MS, interval - waited));
            await reportOom();
          }
        }
      });
    });
}
