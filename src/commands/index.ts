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

/** Every command, in the order `runts --help` lists them. */
export function registerCommands(program: Command): void {
  registerCreate(program);
  registerStart(program);
  registerState(program);
  registerKill(program);
  registerDelete(program);
  registerRun(program);
  registerExec(program);
  registerPs(program);
  registerPauseResume(program);
  registerEvents(program);
  registerHistory(program);
  registerUpdate(program);
  registerCp(program);
  registerList(program);
  registerSpec(program);
  registerFeatures(program);
  registerSupervise(program);
  registerUi(program);
}
