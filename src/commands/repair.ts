import type { Command } from 'commander';
import { defaultStateRoot } from '../state-root.js';
import type { GlobalOptions } from './context.js';
import { printErr, printOut } from './output.js';
import { setExitCode } from '../cli-io.js';

export function registerRepair(program: Command): void {
  program
    .command('repair')
    .description("rebuild a damaged state database from the containers' state directories")
    .addHelpText(
      'after',
      `
When the state database (<root>/runts.mdb) is damaged, every other command refuses to run and says so. repair
moves the damaged files aside (runts.mdb.damaged-<time>: nothing is deleted), creates a fresh database and
records again every container whose state directory holds its facts (<root>/<id>/facts.json). Their status is
read from the kernel by the next command: running, paused, created or stopped, as their processes are. The
transition logs of the damaged database are not carried over. Without damage it changes nothing.`,
    )
    .action(async (_opts, cmd: Command) => {
      const globals = cmd.optsWithGlobals() as GlobalOptions;
      try {
        const root = globals.root ?? defaultStateRoot();
        const { Runtime } = await import('../runtime.js');
        const report = await Runtime.repair(root);
        if (!report) {
          printOut(`state database in ${root} is not damaged: nothing to repair\n`);
          return;
        }
        for (const id of report.skipped) printErr(`runts: warning: ${root}/${id} has no facts file (not a container, or made by an earlier runts): left alone\n`);
        const moved = report.movedAside.length ? `moved it aside to ${report.movedAside.join(', ')}` : 'nothing to move aside';
        const restored = report.inserted.length ? `restored ${report.inserted.length} container(s): ${report.inserted.join(', ')}` : 'no containers to restore';
        printOut(`state database was damaged (${report.why}): ${moved}; ${restored}\n`);
      } catch (e) {
        printErr(`runts: ${(e as Error).message.split('\n')[0]}\n`);
        setExitCode(1);
      }
    });
}
