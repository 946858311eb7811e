import { Option, type Command } from 'commander';
import { withRuntime } from './context.js';

export function registerUpdate(program: Command): void {
  program
    .command('update')
    .description('change the resource limits of a container, applied to its cgroup at once')
    .argument('<container-id>')
    .option('-r, --resources <file>', 'JSON file with OCI linux.resources ("-" for stdin)')
    .option('--memory <bytes>', 'memory limit (e.g. 64m)')
    .option('--memory-reservation <bytes>', 'memory soft limit')
    .option('--memory-swap <bytes>', 'memory plus swap limit (-1 for unlimited)')
    .option('--cpu-quota <us>', 'CPU CFS quota per period (-1 for none)')
    .option('--cpu-period <us>', 'CPU CFS period')
    .option('--cpu-share <n>', 'CPU shares (relative weight)')
    .addOption(new Option('--cpu-shares <n>', 'CPU shares (the same as --cpu-share)').hideHelp())
    .option('--cpu-rt-period <us>', 'CPU realtime period (cgroup v1)')
    .option('--cpu-rt-runtime <us>', 'CPU realtime runtime per period (cgroup v1; -1 for none)')
    .option('--cpuset-cpus <list>', 'CPUs allowed (e.g. 0-1)')
    .option('--cpuset-mems <list>', 'memory nodes allowed')
    .option('--pids-limit <n>', 'maximum number of processes (-1 for unlimited)')
    .option('--blkio-weight <n>', 'block IO weight (10-1000)')
    .action(async (id: string, opts, cmd: Command) => {
      await withRuntime(cmd, async (rt) => {
        const { resourcesFromFlags } = await import('./update-input.js');
        await rt.update(id, resourcesFromFlags(opts));
      });
    });
}
