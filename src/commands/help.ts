import type { Command, Help, Option } from 'commander';

/**
 * Help in runc's shape (urfave/cli): NAME:, USAGE:, then COMMANDS: and GLOBAL OPTIONS: for `runts -h`, or OPTIONS:
 * for `runts <cmd> -h` and `runts help <cmd>`; options as `--name value, -n value`, one line each, aligned. Scripts
 * and people used to runc's help find the same headings.
 */
export function formatHelp(cmd: Command, helper: Help): string {
  const root = cmd.parent === null;
  const name = root ? cmd.name() : `${cmd.parent!.name()} ${cmd.name()}`;
  const out = ['NAME:', `   ${name} - ${cmd.description()}`, '', 'USAGE:'];
  if (root) {
    out.push(`   ${name} [global options] command [command options] [arguments...]`, '');
    if (cmd.version()) out.push('VERSION:', `   ${cmd.version()}`, '');
    const commands = helper.visibleCommands(cmd).map((sub) => [[sub.name(), ...sub.aliases()].join(', '), sub.description()] as const);
    out.push('COMMANDS:', ...table(commands), '', 'GLOBAL OPTIONS:', ...table(options(cmd, helper)));
  } else {
    const usage = cmd.usage().replace(/^\[options\]/, '[command options]');
    out.push(`   ${name} ${usage}`, '');
    if (cmd.aliases().length > 0) out.push('ALIASES:', `   ${cmd.aliases().join(', ')}`, '');
    out.push('OPTIONS:', ...table(options(cmd, helper)));
  }
  return `${out.join('\n')}\n`;
}

function options(cmd: Command, helper: Help): (readonly [string, string])[] {
  // A repeatable option's empty list is no default worth showing (runc shows none).
  return helper.visibleOptions(cmd).map((o) => [optionTerm(o), helper.optionDescription(o).replace(' (default: [])', '')] as const);
}

/** `--env value, -e value`, `--tty, -t`: runc's way of naming an option and whether it takes a value. */
function optionTerm(o: Option): string {
  const value = o.required || o.optional ? ' value' : '';
  return [o.long, o.short].filter((f): f is string => f !== undefined).map((f) => f + value).join(', ');
}

function table(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(0, ...rows.map(([term]) => term.length));
  return rows.map(([term, text]) => `   ${term.padEnd(width)}  ${text}`.trimEnd());
}
