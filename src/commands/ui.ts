import type { Command } from 'commander';
import { withRuntime } from './context.js';
import { untilSignal } from './supervise.js';

export function registerUi(program: Command): void {
  program
    .command('ui')
    .description("serve the statechart visualizer: every container's chart, current state and transitions, live")
    .option('--listen <address>', 'HOST:PORT to serve on (port 0 picks one; loopback unless another host is given)', '127.0.0.1:7433')
    .action(async (opts, cmd: Command) => {
      await withRuntime(
        cmd,
        async (rt, log) => {
          const { serveUi } = await import('../ui/server.js');
          const ui = await serveUi(rt, { listen: opts.listen, log });
          process.stdout.write(`runts: visualizer at ${ui.url}\n`);
          await untilSignal();
          await ui.close();
        },
        { local: true },
      );
    });
}
