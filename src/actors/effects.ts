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

/** What one dispatch hands its effects: the container, the command's payload, and where to leave results. */
export interface DispatchContext {
  container: LiveContainer;
  request: DispatchRequest;
  outcome: EffectOutcome;
  /** Puts the spec into `container.facts` when the record was read without it (Store.get withSpec false). */
  loadSpec(): void;
}

// Keyed by the dispatch's actor system (one per createActor): the chart is provided with the effects once per
// host (building a provided machine costs about half a millisecond), and each effect finds its dispatch here.
const dispatches = new WeakMap<object, DispatchContext>();

/** Makes `ctx` what the effects of the actor whose system is `system` act on. Call before starting it. */
export function bindDispatch(system: object, ctx: DispatchContext): void {
  dispatches.set(system, ctx);
}

/**
 * The real effect actors, by the names the chart invokes, for the dispatches of one host (see bindDispatch). Each
 * one keeps the original error (the chart only sees that it failed) so the command can report the cause exactly.
 */
export function effectActors(env: ContainerEnv) {
  const effect = <I>(run: (d: DispatchContext, input: I) => unknown | Promise<unknown>) =>
    fromPromise<void, I>(async ({ input, system }) => {
      const d = dispatches.get(system);
      if (!d) throw new Error('internal: an effect ran outside a dispatch');
      try {
        d.loadSpec();
        await run(d, input);
      } catch (e) {
        d.outcome.error ??= e;
        throw e;
      }
    });
  const cgroup = (c: LiveContainer) => env.ports.cgroups.open(c.facts.cgroupPath);
  const needs = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`internal: ${what} dispatched without its request`);
    return value;
  };
  return {
    spawnInit: effect(({ container }) => createContainer(container, env)),
    startInit: effect(({ container }) => startContainer(container, env)),
    signalProcess: effect(({ container }, input: { signal: number; all: boolean }) => signalContainer(container, env, input.signal, input.all)),
    freezeCgroup: effect(({ container }) => cgroup(container).freeze()),
    thawCgroup: effect(({ container }) => cgroup(container).thaw()),
    destroyContainer: effect(({ container, request }) => destroyContainer(container, env, request.destroy)),
    spawnExec: effect(async ({ container, request, outcome }) => {
      outcome.execPid = await execProcess(container, env, needs(request.exec, 'exec'));
    }),
    updateCgroup: effect(({ container, request }) => updateContainer(container, env, needs(request.update, 'update'))),
  };
}
