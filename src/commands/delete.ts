import type { Command } from 'commander';
import { withRuntime } from './context.js';

export function registerDelete(program: Command): void {
  program
    .command('delete')
    .description('delete a stopped or created container (and its cgroup and state)')
    .argument('<container-id>')
    .option('-f, --force', 'kill a running or paused container first; a missing container is no error')
    .action(async (id: string, opts, cmd: Command) => {
      await withRuntime(cmd, (rt) => rt.delete(id, { force: opts.force === true }));
    });
}
