import type { Command } from 'commander';
import { Option } from 'commander';
import { withRuntime } from './context.js';
import { formatTable, printOut } from './output.js';

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
          printOut(states.map((s) => `${s.id}\n`).join(''));
        } else if (opts.format === 'json') {
          printOut(JSON.stringify(states) + '\n');
        } else {
          printOut(formatTable([['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER', 'SANDBOX'], ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner, s.sandbox])]));
        }
      });
    });
}
