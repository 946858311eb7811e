import type { Command } from 'commander';
import { Option } from 'commander';
import { withRuntime } from './context.js';

export function registerHistory(program: Command): void {
  program
    .command('history')
    .description("print a container's transition log: every move of its statechart (kept after delete, by exact ID)")
    .argument('<container-id>')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (id: string, opts, cmd: Command) => {
      await withRuntime(cmd, async (rt) => {
        const log = await rt.history(id);
        if (opts.format === 'json') {
          process.stdout.write(JSON.stringify(log) + '\n');
          return;
        }
        // EXIT: the init's exit status where one was recorded ("?" when it exited but nobody could wait for it).
        const exit = (s: number | null | undefined) => (s === undefined ? '' : s === null ? '?' : String(s));
        const rows = [
          ['SEQ', 'TIME', 'FROM', 'TO', 'EVENT', 'PID', 'EXIT'],
          ...log.map((t) => [String(t.seq), t.time, t.from || '-', t.to, t.event, String(t.pid), exit(t.exitStatus)]),
        ];
        const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
        process.stdout.write(rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i] + 3) : c)).join('').trimEnd()).join('\n') + '\n');
      });
    });
}
