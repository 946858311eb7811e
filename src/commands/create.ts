import type { Command } from 'commander';
import { withRuntime } from './context.js';

export function registerCreate(program: Command): void {
  program
    .command('create')
    .description('create a container whose process waits, blocked, until `start`')
    .argument('<container-id>')
    .option('-b, --bundle <dir>', 'bundle directory (holds config.json)', '.')
    .option('--pid-file <file>', 'write the init process pid here (last, once created)')
    .option('--console-socket <path>', 'unix socket that receives the pty master (process.terminal)')
    .option('--preserve-fds <n>', 'pass this many extra fds (from 3) to the container', (v) => Number(v), 0)
    .option('--no-pivot', 'accepted for runc compatibility (runts always uses pivot_root)')
    .option('--no-new-keyring', 'accepted for runc compatibility')
    .action(async (id: string, opts, cmd: Command) => {
      // First thing: the kernel's wait for the init's cgroup move then runs while runts loads and plans.
      (await import('../linux/cgroups/attach-warmup.js')).warmUpCgroupAttach();
      await withRuntime(cmd, (rt) =>
        rt.create(id, { bundle: opts.bundle, pidFile: opts.pidFile, consoleSocket: opts.consoleSocket, preserveFds: opts.preserveFds }),
      );
    });
}
