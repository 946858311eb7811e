import type { Command } from 'commander';
import { withRuntime } from './context.js';
import { callerContext, setExitCode } from '../cli-io.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('create and start a container; without --detach wait for it, delete it and exit with its status')
    .argument('<container-id>')
    .option('-b, --bundle <dir>', 'bundle directory (holds config.json)', '.')
    .option('-d, --detach', 'return once the process is started')
    .option('--pid-file <file>', 'write the init process pid here')
    .option('--console-socket <path>', 'unix socket that receives the pty master (process.terminal)')
    .option('--preserve-fds <n>', 'pass this many extra fds (from 3) to the container', (v) => Number(v), 0)
    .option('--keep', 'do not delete the container after it exits')
    .option('--no-pivot', 'accepted for runc compatibility (runts always uses pivot_root)')
    .option('--no-new-keyring', 'accepted for runc compatibility')
    .action(async (id: string, opts, cmd: Command) => {
      // First thing: the kernel's wait for the init's cgroup move then runs while runts loads and plans.
      (await import('../linux/cgroups/attach-warmup.js')).warmUpCgroupAttach();
      const status = await withRuntime(cmd, (rt) =>
        rt.run(id, {
          bundle: opts.bundle,
          detach: opts.detach === true,
          pidFile: opts.pidFile,
          consoleSocket: opts.consoleSocket,
          preserveFds: opts.preserveFds,
          keep: opts.keep === true,
          // Handed to a warm host by the front: the front forwards the caller's signals (the host's are its own).
          forwardSignals: callerContext() === undefined,
        }),
      );
      if (status !== undefined) setExitCode(status);
    });
}
