import { fromPromise } from 'xstate';
import type { ContainerEnv, LiveContainer } from './ports.js';
import { createContainer } from './ops/create-container.js';
import { startContainer } from './ops/start-container.js';
import { signalContainer } from './ops/signal-container.js';
import { destroyContainer } from './ops/destroy-container.js';

/** What the effects of one dispatch left behind for the host: the first error, with its code and message intact. */
export interface EffectOutcome {
  error?: unknown;
}

/**
 * The real effect actors for one container, by the names the chart invokes. Each one keeps the original error
 * (the chart only sees that it failed) so the command can report the cause exactly.
 */
export function effectActors(c: LiveContainer, env: ContainerEnv, outcome: EffectOutcome) {
  const effect = <I>(run: (input: I) => unknown | Promise<unknown>) =>
    fromPromise<void, I>(async ({ input }) => {
      try {
        await run(input);
      } catch (e) {
        outcome.error ??= e;
        throw e;
      }
    });
  const cgroup = () => env.ports.cgroups.open(c.facts.cgroupPath);
  return {
    spawnInit: effect(() => createContainer(c, env)),
    startInit: effect(() => startContainer(c, env)),
    signalProcess: effect((input: { signal: number; all: boolean }) => signalContainer(c, env, input.signal, input.all)),
    freezeCgroup: effect(() => cgroup().freeze()),
    thawCgroup: effect(() => cgroup().thaw()),
    destroyContainer: effect(() => destroyContainer(c, env)),
  };
}
