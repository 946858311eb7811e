import type { Command } from 'commander';
import { withRuntime } from './context.js';
import { setExitCode } from '../cli-io.js';

const collect = (value: string, all: string[]) => [...all, value];

export function registerExec(program: Command): void {
  program
    .command('exec')
    .description('run another process in a created or running container; in the foreground, exit with its status')
    .argument('<container-id>')
    .argument('[command...]', 'the program and its arguments (or use --process)')
    .option('-p, --process <file>', 'process.json with the whole process to run (OCI process object)')
    .option('-d, --detach', 'do not wait for the process')
    .option('--pid-file <file>', 'write the process pid here')
    .option('-t, --tty', 'give the process a terminal')
    .option('--console-socket <path>', 'unix socket that receives the pty master (with --tty)')
    .option('--cwd <dir>', 'working directory inside the container')
    .option('-e, --env <K=V>', 'add an environment variable (repeatable)', collect, [])
    .option('-u, --user <uid[:gid]>', 'user and group ids to run as')
    .option('-g, --additional-gids <gid>', 'a supplementary group of the process (repeatable)', collect, [])
    .option('-c, --cap <CAP_NAME>', 'add a capability (repeatable)', collect, [])
    .option('--no-new-privs', 'set no_new_privs for the process')
    .option('--cgroup <path>', 'start in this existing sub-cgroup of the container\'s; <controller>[,<controller>]:<path> for one v1 hierarchy (repeatable)', collect, [])
    .option('--ignore-paused', 'allow exec in a paused container (the process stays frozen until resume)')
    .option('--preserve-fds <n>', 'pass this many extra fds (from 3) to the process', (v) => Number(v), 0)
    .passThroughOptions()
    .action(async (id: string, command: string[], opts, cmd: Command) => {
      const status = await withRuntime(cmd, async (rt) => {
        const { readExecProcess, parseUser, parseGid } = await import('./exec-input.js');
        const proc = await rt.exec(id, {
          process: opts.process ? readExecProcess(opts.process) : undefined,
          args: command,
          env: opts.env,
          cwd: opts.cwd,
          user: opts.user ? parseUser(opts.user) : undefined,
          additionalGids: opts.additionalGids.map((g: string) => parseGid(g)),
          caps: opts.cap,
          noNewPrivs: opts.newPrivs === false,
          tty: opts.tty === true,
          consoleSocket: opts.consoleSocket,
          pidFile: opts.pidFile,
          preserveFds: opts.preserveFds,
          detach: opts.detach === true,
          ignorePaused: opts.ignorePaused === true,
          cgroups: opts.cgroup.length > 0 ? (await import('../linux/cgroups/sub-cgroups.js')).parseSubCgroups(opts.cgroup) : undefined,
        });
        return opts.detach ? 0 : proc.wait();
      }, { failureStatus: 255 }); // as runc: any failure of exec itself (not of the process) exits 255
      if (status !== undefined) setExitCode(status);
    });
}
