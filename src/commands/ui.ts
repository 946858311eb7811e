import type { Command } from 'commander';
import type { GlobalOptions } from './context.js';
import { untilSignal } from './supervise.js';

export function registerUi(program: Command): void {
  program
    .command('ui')
    .description("serve the statechart visualizer: every container's chart, current state and transitions, live")
    .option('--listen <address>', 'HOST:PORT to serve on (port 0 picks one; loopback unless another host is given)', '127.0.0.1:7433')
    .action(async (opts, cmd: Command) => {
      const globals = cmd.optsWithGlobals() as GlobalOptions;
      const { createLogger } = await import('../log.js');
      const log = createLogger({ file: globals.log, format: globals.logFormat, debug: globals.debug });
      const { Runtime } = await import('../runtime.js');
      const { serveUi } = await import('../ui/server.js');
      let rt: Awaited<ReturnType<typeof Runtime.open>> | undefined;
      try {
        rt = await Runtime.open({ root: globals.root, log });
        const ui = await serveUi(rt, { listen: opts.listen, log });
        process.stdout.write(`runts: visualizer at ${ui.url}\n`);
        await untilSignal();
        await ui.close();
      } catch (e) {
        const msg = (e as Error).message.split('\n')[0];
        log.error(msg);
        process.stderr.write(`runts: ${msg}\n`);
        process.exitCode = 1;
      } finally {
        await rt?.close();
      }
    });
}
