import type { Command } from 'commander';
import { withRuntime } from './context.js';
import { printOut } from './output.js';

export function registerState(program: Command): void {
  program
    .command('state')
    .description('print the state of a container as JSON')
    .argument('<container-id>')
    .action(async (id: string, _opts, cmd: Command) => {
      await withRuntime(cmd, async (rt) => {
        printOut(JSON.stringify(await rt.state(id), null, 2) + '\n');
      });
    });
}
