import type { Command } from 'commander';
import { withRuntime } from './context.js';

export function registerPauseResume(program: Command): void {
  program
    .command('pause')
    .description('freeze every process of a running container')
    .argument('<container-id>')
    .action(async (id: string, _opts, cmd: Command) => {
      await withRuntime(cmd, (rt) => rt.pause(id));
    });
  program
    .command('resume')
    .description('thaw a paused container')
    .argument('<container-id>')
    .action(async (id: string, _opts, cmd: Command) => {
      await withRuntime(cmd, (rt) => rt.resume(id));
    });
}
