import { Command, CommanderError, Option } from 'commander';
import { registerCommands, unknownCommand, unknownHelpTopic } from './commands/index.js';
import { formatHelp } from './commands/help.js';
import { printErr, printOut } from './commands/output.js';
import { setCommandRunner, setExitCode } from './cli-io.js';
import { VERSION } from './version.js';
import { OCI_VERSION } from './oci/default-spec.js';

/**
 * runts' command line: runc's global flags and commands, as its callers (containerd's shim, Docker) send them. Commands are thin: parse, one Runtime call,
 * print, exit status. Heavy modules are imported only by the commands that need them.
 */
export function buildProgram(argv?: string[]): Command {
  const program = new Command('runts')
    .description('An OCI container runtime: runc\'s command line, each container a statechart')
    .version(`runts version ${VERSION}\nspec: ${OCI_VERSION}`, '-v, --version', 'print the version and the OCI runtime spec version')
    .option('--root <dir>', 'state root directory (default /run/runts; without root $XDG_RUNTIME_DIR/runts)')
    .option('--log <file>', 'append log lines to this file (default: none; --debug logs to stderr)')
    .addOption(new Option('--log-format <format>', 'log line format').choices(['text', 'json']).default('text'))
    .option('--debug', 'log debug messages')
    .option('--systemd-cgroup', 'accepted for runc compatibility; runts drives cgroupfs directly')
    .option('--no-autostart', 'do not start a warm runts host for this root (the same as RUNTS_AUTOSTART=0)')
    .addOption(new Option('--rootless <value>', 'accepted for runc compatibility').hideHelp())
    .addOption(new Option('--criu <path>', 'accepted for runc compatibility').hideHelp())
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show a list of commands, or help for one command')
    .configureHelp({ formatHelp })
    .showHelpAfterError(false)
    .enablePositionalOptions()
    .configureOutput({ writeOut: printOut, writeErr: printErr, outputError: (str, write) => write(str.replace(/^error: /, 'runts: ')) });
  registerCommands(program, argv);
  return program;
}

/**
 * Runs one command line. `inHost`: the command runs inside a warm runts host for a caller (src/cli-io.ts), so
 * commander must not end the process; its exit status becomes the command's.
 */
export async function main(argv: string[], inHost = false): Promise<void> {
  const program = buildProgram(argv);
  if (inHost) for (const c of [program, ...program.commands]) c.exitOverride();
  // Commander answers `runts foo -h` with the general help and exit 0; runc fails. Without -h commander's own error
  // (with its "Did you mean" suggestions) is the one to give.
  const unknown = unknownCommand(program, argv);
  const noTopic = unknownHelpTopic(program, argv);
  if (unknown !== undefined && argv.some((a) => a === '-h' || a === '--help')) {
    printErr(`runts: unknown command '${unknown}': see runts --help\n`);
    setExitCode(1);
  } else if (noTopic !== undefined) {
    printErr(`runts: no help topic for '${noTopic}': see runts --help\n`);
    setExitCode(1);
  } else {
    await program.parseAsync(argv).catch((e) => {
      if (e instanceof CommanderError) {
        // exitOverride: commander printed what it had to say already.
        setExitCode(e.exitCode);
        return;
      }
      printErr(`runts: ${(e as Error).message}\n`);
      setExitCode(1);
    });
  }
}

setCommandRunner(main);
