import type { Command } from 'commander';
import { Option } from 'commander';
import { withRuntime } from './context.js';
import { formatTable, printOut } from './output.js';

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
          printOut(JSON.stringify(log) + '\n');
          return;
        }
        // EXIT: the init's exit status where one was recorded ("?" when it exited but nobody could wait for it).
        const exit = (s: number | null | undefined) => (s === undefined ? '' : s === null ? '?' : String(s));
        printOut(
          formatTable([
            ['SEQ', 'TIME', 'FROM', 'TO', 'EVENT', 'PID', 'EXIT'],
            ...log.map((t) => [String(t.seq), t.time, t.from || '-', t.to, t.event, String(t.pid), exit(t.exitStatus)]),
          ]),
        );
      });
    });
}
