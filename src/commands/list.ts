import type { Command } from 'commander';
import { Option } from 'commander';
import { withRuntime } from './context.js';

export function registerList(program: Command): void {
  program
    .command('list')
    .alias('ps-all')
    .description('list containers')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('-q, --quiet', 'print only the container IDs')
    .action(async (opts, cmd: Command) => {
      await withRuntime(cmd, async (rt) => {
        const states = await rt.list();
        if (opts.quiet) {
          process.stdout.write(states.map((s) => `${s.id}\n`).join(''));
        } else if (opts.format === 'json') {
          process.stdout.write(JSON.stringify(states) + '\n');
        } else {
          const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER', 'SANDBOX'], ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner, s.sandbox])];
          const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
          process.stdout.write(rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i] + 3) : c)).join('')).join('\n') + '\n');
        }
      });
    });
}
