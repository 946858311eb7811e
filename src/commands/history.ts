import type { Command } from 'commander';
import { Option } from 'commander';
import { withRuntime } from './context.js';
import { formatTable, printOut } from './output.js';
import { RuntsError } from '../errors.js';

class CommandError extends RuntsError {}

export function registerHistory(program: Command): void {
  program
    .command('history')
    .description(
      "print a container's transition log: every move of its statechart (kept after delete, by exact ID, for the most " +
        'recently deleted containers); --purge drops the logs of deleted containers',
    )
    .argument('[container-id]')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--purge', "drop the log of this deleted container (exact ID), or without an ID of every deleted container")
    .action(async (id: string | undefined, opts, cmd: Command) => {
      await withRuntime(cmd, async (rt) => {
        if (opts.purge) {
          await rt.purgeHistory(id);
          return;
        }
        if (id === undefined) throw new CommandError('bad_config', 'history needs a container ID (or --purge)');
        const log = await rt.history(id);
        if (opts.format === 'json') {
          printOut(JSON.stringify(log) + '\n');
          return;
        }
        // EXIT: the init's exit status where one was recorded ("?" when it exited but nobody could wait for it).
        const exit = (s: number | null | undefined) => (s === undefined ? '' : s === null ? '?' : String(s));
        // A refused event stayed where it was (FROM = TO): its row says REFUSED and why, in a last column that only
        // a log with refusals has (the table of a log without one reads as it always did).
        const refusals = log.some((t) => t.refused);
        const row = (t: (typeof log)[number]) => [String(t.seq), t.time, t.from || '-', t.to, t.event, String(t.pid), exit(t.exitStatus)];
        printOut(
          formatTable([
            ['SEQ', 'TIME', 'FROM', 'TO', 'EVENT', 'PID', 'EXIT', ...(refusals ? ['REFUSED'] : [])],
            ...log.map((t) => (refusals ? [...row(t), t.refused ? `${t.refused.code}: ${t.refused.reason}` : ''] : row(t))),
          ]),
        );
      });
    });
}
