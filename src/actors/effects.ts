import { fromPromise } from 'xstate';
import type { LinuxResources } from '../oci/types.js';
import type { ContainerEnv, LiveContainer, LiveFacts } from './ports.js';
import { createContainer } from './ops/create-container.js';
import { startContainer } from './ops/start-container.js';
import { signalContainer } from './ops/signal-container.js';
import { destroyContainer, type TeardownOptions } from './ops/destroy-container.js';
import { execProcess, type ExecRequest } from './ops/exec-process.js';
import { updateContainer } from './ops/update-container.js';
import { containerCgroup } from './container-cgroup.js';

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
 * What an effect that returns its result as data hands back: the actor's output, which the chart receives with its
 * done event (onDone); the host applies it then (see applyEffectResult), before the chart's next effect starts.
 * `patch`: the facts it changed; `execPid`: the process an exec started.
 */
export interface EffectResult {
  patch?: Partial<LiveFacts>;
  execPid?: number;
}

/** The output of an effect done event (`xstate.done.actor.<effect>`), when it carries an {@link EffectResult}. */
export function effectResultOf(event: { type: string; output?: unknown }): EffectResult | undefined {
  if (!event.type.startsWith('xstate.done.actor.')) return undefined;
  const output = event.output as EffectResult | undefined;
  return output && typeof output === 'object' ? output : undefined;
}

/** Applies an effect's result to the dispatch's facts and outcome (the host's half of the onDone). */
export function applyEffectResult(result: EffectResult, facts: LiveFacts, outcome: EffectOutcome): void {
  if (result.patch) Object.assign(facts, result.patch);
  if (result.execPid !== undefined) outcome.execPid = result.execPid;
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
  // `returning`: the effect hands back an EffectResult (the actor's output), applied by the host when the chart takes
  // the done event. The others (not yet moved to that form) act on the dispatch's container in place.
  const effect = <I>(run: (d: DispatchContext, input: I) => unknown, returning: 'result' | 'nothing' = 'nothing') =>
    fromPromise<EffectResult | undefined, I>(async ({ input, system }) => {
      const d = dispatches.get(system);
      if (!d) throw new Error('internal: an effect ran outside a dispatch');
      try {
        d.loadSpec();
        const result = await run(d, input);
        return returning === 'result' ? (result as EffectResult) : undefined;
      } catch (e) {
        d.outcome.error ??= e;
        throw e;
      }
    });
  const cgroup = (c: LiveContainer, what: string) => containerCgroup(env.ports.cgroups, c.facts, what);
  const needs = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`internal: ${what} dispatched without its request`);
    return value;
  };
  return {
    spawnInit: effect(({ container }) => createContainer(container, env)),
    startInit: effect(({ container }) => startContainer(container, env)),
    signalProcess: effect(({ container }, input: { signal: number; all: boolean }) => signalContainer(container, env, input.signal, input.all)),
    freezeCgroup: effect(({ container }) => cgroup(container, 'pause').freeze()),
    thawCgroup: effect(({ container }) => cgroup(container, 'resume').thaw()),
    destroyContainer: effect(({ container, request }) => destroyContainer(container, env, request.destroy)),
    spawnExec: effect(
      async ({ container, request }): Promise<EffectResult> => ({ execPid: await execProcess(container, env, needs(request.exec, 'exec')) }),
      'result',
    ),
    updateCgroup: effect(
      ({ container, request }): EffectResult => ({ patch: updateContainer(container.facts, env, needs(request.update, 'update')) }),
      'result',
    ),
  };
}
