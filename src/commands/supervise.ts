import type { Command } from 'commander';
import type { GlobalOptions } from './context.js';

export function registerSupervise(program: Command): void {
  program
    .command('supervise')
    .description(
      'run the resident host of a root: CLI commands forward to it over <root>/supervisor.sock, it is the parent ' +
        'of the containers it creates and records their exit statuses at once; --listen also serves the visualizer',
    )
    .option('--root <dir>', 'state root (instead of the global --root)')
    .option('--listen [address]', 'serve the visualizer at HOST:PORT (default 127.0.0.1:7433; loopback unless given)')
    .action(async (opts, cmd: Command) => {
      const globals = cmd.optsWithGlobals() as GlobalOptions;
      const root: string = (cmd.opts().root as string | undefined) ?? globals.root;
      const { createLogger } = await import('../log.js');
      const log = createLogger({ file: globals.log, format: globals.logFormat, debug: globals.debug });
      const { Runtime } = await import('../runtime.js');
      const { DEFAULT_LISTEN } = await import('../ui/listen.js');
      let rt: Awaited<ReturnType<typeof Runtime.open>> | undefined;
      try {
        rt = await Runtime.open({ root, log });
        const resident = await rt.serve({ listen: opts.listen === true ? DEFAULT_LISTEN : opts.listen, reapOrphans: true });
        process.stdout.write(`runts: supervising ${rt.root} (pid ${process.pid}) on ${resident.socketPath}\n`);
        if (resident.url) process.stdout.write(`runts: visualizer at ${resident.url}\n`);
        const signal = await untilSignal();
        log.info({ signal }, 'supervisor stopping');
        await resident.close();
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

/** Resolves with the first of SIGINT / SIGTERM / SIGHUP. */
export function untilSignal(): Promise<NodeJS.Signals> {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  return new Promise((resolve) => {
    const on = (s: NodeJS.Signals) => {
      for (const x of signals) process.off(x, on);
      resolve(s);
    };
    for (const s of signals) process.on(s, on);
  });
}
