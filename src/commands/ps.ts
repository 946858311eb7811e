import type { Command } from 'commander';
import { Option } from 'commander';
import { withRuntime } from './context.js';
import { printOut } from './output.js';
import { callerContext } from '../cli-io.js';

export function registerPs(program: Command): void {
  program
    .command('ps')
    .description('list the processes of a container (json: the array of host pids)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .argument('<container-id>')
    .argument('[ps-options...]', 'options for ps(1) in table format (default -ef)')
    .passThroughOptions()
    .action(async (id: string, psOptions: string[], opts, cmd: Command) => {
      await withRuntime(cmd, async (rt) => {
        const pids = await rt.ps(id);
        if (opts.format === 'json') {
          printOut(JSON.stringify(pids) + '\n');
          return;
        }
        // As runc: run ps(1) on the host and keep the header and the container's lines.
        const ps = process.getBuiltinModule('node:child_process').spawnSync('ps', psOptions.length ? psOptions : ['-ef'], {
          encoding: 'utf8',
          env: callerContext()?.env, // the caller's (in a warm host); undefined: ours
        });
        const [header, ...lines] = ps.stdout.split('\n');
        const column = header.trim().split(/\s+/).indexOf('PID');
        const inside = new Set(pids.map(String));
        const mine = lines.filter((l) => l.trim() && inside.has(l.trim().split(/\s+/)[column]));
        printOut([header, ...mine].join('\n') + '\n');
      });
    });
}
