import { Command, Option } from 'commander';
import { registerCommands, unknownCommand, unknownHelpTopic } from './commands/index.js';
import { formatHelp } from './commands/help.js';
import { printErr, printOut } from './commands/output.js';
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

const argv = process.argv;
const program = buildProgram(argv);
// Commander answers `runts foo -h` with the general help and exit 0; runc fails. Without -h commander's own error
// (with its "Did you mean" suggestions) is the one to give.
const unknown = unknownCommand(program, argv);
const noTopic = unknownHelpTopic(program, argv);
if (unknown !== undefined && argv.some((a) => a === '-h' || a === '--help')) {
  printErr(`runts: unknown command '${unknown}': see runts --help\n`);
  process.exitCode = 1;
} else if (noTopic !== undefined) {
  printErr(`runts: no help topic for '${noTopic}': see runts --help\n`);
  process.exitCode = 1;
} else {
  program.parseAsync(argv).catch((e) => {
    printErr(`runts: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}
