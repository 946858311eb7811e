import { fromPromise } from 'xstate';
import type { LinuxResources } from '../oci/types.js';
import type { EffectOutput, SignalInput } from '../machines/container.js';
import type { ContainerEnv, LiveFacts } from './ports.js';
import { createContainer } from './effects/create-container.js';
import { startContainer } from './effects/start-container.js';
import { signalContainer } from './effects/signal-container.js';
import { freezeContainer, thawContainer } from './effects/freeze-container.js';
import { destroyContainer, type TeardownOptions } from './effects/destroy-container.js';
import { execProcess, type ExecRequest } from './effects/exec-process.js';
import { updateContainer } from './effects/update-container.js';

/** Payloads of commands whose effect needs more than the container's facts. */
export interface DispatchRequest {
  exec?: ExecRequest;
  update?: LinuxResources;
  destroy?: TeardownOptions;
}

/** What the effects of one dispatch reported besides the facts they changed. */
export interface EffectOutcome {
  execPid?: number;
}

/**
 * What an effect resolves with: the actor's output, which the chart takes with its done event (onDone merges the
 * patch into the dispatch's facts before the next effect starts). `patch`: the facts it changed; `execPid`: the
 * process an exec started.
 */
export interface EffectResult extends EffectOutput {
  patch?: Partial<LiveFacts>;
}

/** What every effect gets (the chart's invoke input): the facts as they were when it started, the request. */
interface Input {
  facts: Readonly<LiveFacts>;
  request: Readonly<DispatchRequest>;
}

/**
 * The real effect actors, by the names the chart invokes. Each is a function of its input (the dispatch the host
 * lent the chart: facts and request) and this host's env; none changes its input: what it changed comes back as its
 * result. Provided to the chart once per host (building a provided machine costs about half a millisecond).
 */
export function effectActors(env: ContainerEnv) {
  const effect = <I extends Input = Input>(run: (input: I) => Promise<EffectResult | void> | EffectResult | void) =>
    fromPromise<EffectResult, I>(async ({ input }) => {
      if (!input.facts) throw new Error('internal: an effect started without the facts of a dispatch');
      return (await run(input)) ?? {};
    });
  const needs = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`internal: ${what} dispatched without its request`);
    return value;
  };
  return {
    spawnInit: effect(async ({ facts }) => ({ patch: await createContainer(facts, env) })),
    startInit: effect(({ facts }) => startContainer(facts, env)),
    signalProcess: effect<Input & SignalInput>(({ facts, signal, all }) => signalContainer(facts, env, signal, all)),
    freezeCgroup: effect(({ facts }) => freezeContainer(facts, env)),
    thawCgroup: effect(({ facts }) => thawContainer(facts, env)),
    destroyContainer: effect(({ facts, request }) => destroyContainer(facts, env, request.destroy)),
    spawnExec: effect(async ({ facts, request }) => ({ execPid: await execProcess(facts, env, needs(request.exec, 'exec')) })),
    updateCgroup: effect(({ facts, request }) => ({ patch: updateContainer(facts, env, needs(request.update, 'update')) })),
  };
}
