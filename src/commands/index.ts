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

/** Every command, in the order `runts --help` lists them. */
export function registerCommands(program: Command): void {
  registerCreate(program);
  registerStart(program);
  registerState(program);
  registerKill(program);
  registerDelete(program);
  registerRun(program);
  registerList(program);
  registerSpec(program);
  registerFeatures(program);
}
