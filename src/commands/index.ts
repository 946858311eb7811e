import type { Command } from 'commander';
import { registerCreate } from './create.js';
import { registerStart } from './start.js';
import { registerState } from './state.js';
import { registerKill } from './kill.js';
import { registerDelete } from './delete.js';
import { registerRun } from './run.js';
import { registerList } from './list.js';
import { registerSpec } from './spec.js';
import { registerFeatures } from './features.js';
import { registerExec } from './exec.js';
import { registerPs } from './ps.js';
import { registerPauseResume } from './pause.js';
import { registerEvents } from './events.js';
import { registerUpdate } from './update.js';
import { registerCp } from './cp.js';
import { registerHistory } from './history.js';
import { registerSupervise } from './supervise.js';
import { registerUi } from './ui.js';
import { registerRepair } from './repair.js';

/** Every command by name (and alias), in the order `runts --help` lists them. */
const COMMANDS: Record<string, (program: Command) => void> = {
  create: registerCreate,
  start: registerStart,
  state: registerState,
  kill: registerKill,
  delete: registerDelete,
  run: registerRun,
  exec: registerExec,
  ps: registerPs,
  pause: registerPauseResume,
  resume: registerPauseResume,
  events: registerEvents,
  history: registerHistory,
  update: registerUpdate,
  cp: registerCp,
  list: registerList,
  'ps-all': registerList,
  spec: registerSpec,
  features: registerFeatures,
  supervise: registerSupervise,
  ui: registerUi,
  repair: registerRepair,
};

/**
 * Registers the commands on `program`. Given the command line, only the command it invokes: building all twenty
 * commands and their options is a millisecond that `runts state` would pay on every call. Help, unknown commands
 * and anything unclear get them all (for the listing and the suggestions).
 */
export function registerCommands(program: Command, argv?: string[]): void {
  const word = argv && commandWord(program, argv);
  if (word !== undefined && Object.hasOwn(COMMANDS, word)) {
    COMMANDS[word](program);
    return;
  }
  for (const register of new Set(Object.values(COMMANDS))) register(program);
}

/** The word of `argv` in the command's place when it names no command; undefined for a command, `help` or none. */
export function unknownCommand(program: Command, argv: string[]): string | undefined {
  const word = commandWord(program, argv);
  return word === undefined || word === 'help' || Object.hasOwn(COMMANDS, word) ? undefined : word;
}

/** The word after `help` when it names no command (`runts help nosuch`), else undefined. */
export function unknownHelpTopic(program: Command, argv: string[]): string | undefined {
  const at = commandIndex(program, argv);
  if (at === undefined || argv[at] !== 'help') return undefined;
  const topic = argv[at + 1];
  return topic === undefined || topic.startsWith('-') || Object.hasOwn(COMMANDS, topic) ? undefined : topic;
}

/** The first word of `argv` that is neither a global option nor an option's value: the command's place. */
export function commandWord(program: Command, argv: string[]): string | undefined {
  const at = commandIndex(program, argv);
  return at === undefined ? undefined : argv[at];
}

function commandIndex(program: Command, argv: string[]): number | undefined {
  const takesValue = new Set(program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short]));
  for (let i = 2; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') return undefined;
    if (word.startsWith('-')) {
      if (takesValue.has(word)) i++;
      continue;
    }
    return i;
  }
  return undefined;
}
