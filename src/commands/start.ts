import type { Command } from 'commander';
import { withRuntime } from './context.js';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the user process of a created container')
    .argument('<container-id>')
    .action(async (id: string, _opts, cmd: Command) => {
      await withRuntime(cmd, (rt) => rt.start(id));
    });
}
