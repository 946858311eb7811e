import type { Command } from 'commander';
import { withRuntime } from './context.js';

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
      const root = cmd.opts().root as string | undefined;
      await withRuntime(
        cmd,
        async (rt, log) => {
          const { DEFAULT_LISTEN } = await import('../ui/listen.js');
          const resident = await rt.serve({ listen: opts.listen === true ? DEFAULT_LISTEN : opts.listen, reapOrphans: true });
          process.stdout.write(`runts: supervising ${rt.root} (pid ${process.pid}) on ${resident.socketPath}\n`);
          if (resident.url) process.stdout.write(`runts: visualizer at ${resident.url}\n`);
          const signal = await untilSignal();
          log.info({ signal }, 'supervisor stopping');
          await resident.close();
        },
        { local: true, root },
      );
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
