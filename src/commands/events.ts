import type { Command } from 'commander';
import { withRuntime } from './context.js';

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
        for (;;) {
          let data;
          try {
            data = await rt.stats(fullId);
          } catch (e) {
            // Streaming ends when the container stops (its cgroup is gone or emptied).
            if (!opts.stats && (e as { code?: string }).code === 'bad_state') return;
            throw e;
          }
          process.stdout.write(JSON.stringify({ type: 'stats', id: fullId, data }) + '\n');
          if (opts.stats) return;
          await sleep(interval);
        }
      });
    });
}
