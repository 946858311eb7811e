import { detectLayout, openCgroup } from '../linux/cgroups/index.js';
import { nativePort } from '../native/index.js';
import { waitForStop, type StopWaitRequest } from './stop-waiter.js';

/**
 * The one-shot tasks the piscina pool runs, by name (piscina loads this module in each pool thread). A worker
 * thread cannot be handed the caller's port object: this is where it gets the real one.
 */
const tasks = {
  waitForStop: (input: StopWaitRequest) => waitForStop(input, nativePort(), (path, relativeTo) => openCgroup(detectLayout(), path, relativeTo)),
};

export type TaskName = keyof typeof tasks;

export default function run({ name, input }: { name: TaskName; input: never }): unknown {
  const task = tasks[name];
  if (!task) throw new Error(`unknown worker task "${name}"`);
  return task(input);
}
