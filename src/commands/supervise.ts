import { Option, type Command } from 'commander';
import type { Logger } from 'pino';
import type { Runtime } from '../runtime.js';
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
    .addOption(new Option('--auto', 'the warm host the native front starts: front socket only, leaves when idle').hideHelp())
    .action(async (opts, cmd: Command) => {
      const root = cmd.opts().root as string | undefined;
      await withRuntime(
        cmd,
        async (rt, log) => {
          if (opts.auto) return autoHost(rt, log);
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

/** Seconds an auto-started host stays without a command ($RUNTS_HOST_IDLE, default 60). */
function idleMs(): number {
  const s = Number(process.env.RUNTS_HOST_IDLE);
  return (Number.isFinite(s) && s > 0 ? s : 60) * 1000;
}

/**
 * The host bin/runts starts on first use (detached: its own session, stdio on /dev/null): it serves only the front
 * socket — never supervisor.sock, whose create/run would make containers its children instead of the caller's —
 * from its own cgroup (not the first caller's, which a client may limit or tear down), and leaves when idle.
 */
async function autoHost(rt: Runtime, log: Logger): Promise<void> {
  await ownCgroup(log);
  const resident = await rt.serve({ socket: false, front: true, reapOrphans: true });
  const why = await Promise.race([untilSignal(), resident.front!.whenIdle(idleMs())]);
  log.info({ why }, 'warm host leaving');
  await resident.close();
}

/** Moves this process to the cgroup /runts-host of every hierarchy (best effort: a host without cgroups stays). */
async function ownCgroup(log: Logger): Promise<void> {
  try {
    const { hostCgroups } = await import('../actors/default-ports.js');
    const { writeFileSync } = await import('node:fs');
    const { refreshOwnCgroups } = await import('../linux/cgroups/index.js');
    const cg = hostCgroups().open('/runts-host');
    cg.create();
    try {
      for (const procs of cg.procsFiles()) writeFileSync(procs, String(process.pid));
    } finally {
      refreshOwnCgroups(); // where we are now, moved or not: the attach warm-up writes our pid there
    }
  } catch (e) {
    log.debug({ err: (e as Error).message }, 'the warm host stays in its cgroup');
  }
}
