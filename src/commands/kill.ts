import type { Command } from 'commander';
import { withRuntime } from './context.js';

export function registerKill(program: Command): void {
  program
    .command('kill')
    .description('send a signal (default SIGTERM) to the container process, or with --all to all its processes')
    .argument('<container-id>')
    .argument('[signal]', 'name (KILL, SIGKILL) or number', 'SIGTERM')
    .option('-a, --all', 'signal every process of the container')
    .action(async (id: string, signal: string, opts, cmd: Command) => {
      await withRuntime(cmd, async (rt) => {
        const { parseSignal } = await import('../oci/signals.js');
        await rt.kill(id, parseSignal(signal), { all: opts.all === true });
      });
    });
}
