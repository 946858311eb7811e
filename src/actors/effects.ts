import { fromPromise } from 'xstate';
import type { LinuxResources } from '../oci/types.js';
import type { ContainerEnv, LiveContainer } from './ports.js';
import { createContainer } from './ops/create-container.js';
import { startContainer } from './ops/start-container.js';
import { signalContainer } from './ops/signal-container.js';
import { destroyContainer, type TeardownOptions } from './ops/destroy-container.js';
import { execProcess, type ExecRequest } from './ops/exec-process.js';
import { updateContainer } from './ops/update-container.js';

/** Payloads of commands whose effect needs more than the container's facts. */
export interface DispatchRequest {
  exec?: ExecRequest;
  update?: LinuxResources;
  destroy?: TeardownOptions;
}

/** What the effects of one dispatch left behind for the host: the first error (code and message intact), results. */
export interface EffectOutcome {
  error?: unknown;
  execPid?: number;
}

/**
 * The real effect actors for one container, by the names the chart invokes. Each one keeps the original error
 * (the chart only sees that it failed) so the command can report the cause exactly.
 */
export function effectActors(c: LiveContainer, env: ContainerEnv, request: DispatchRequest, outcome: EffectOutcome) {
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
  const needs = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`internal: ${what} dispatched without its request`);
    return value;
  };
  return {
    spawnInit: effect(() => createContainer(c, env)),
    startInit: effect(() => startContainer(c, env)),
    signalProcess: effect((input: { signal: number; all: boolean }) => signalContainer(c, env, input.signal, input.all)),
    freezeCgroup: effect(() => cgroup().freeze()),
    thawCgroup: effect(() => cgroup().thaw()),
    destroyContainer: effect(() => destroyContainer(c, env, request.destroy)),
    spawnExec: effect(() => (outcome.execPid = execProcess(c, env, needs(request.exec, 'exec')))),
    updateCgroup: effect(() => updateContainer(c, env, needs(request.update, 'update'))),
  };
}
