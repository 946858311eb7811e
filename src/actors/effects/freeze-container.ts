import type { ContainerEnv, LiveFacts } from '../ports.js';
import { containerCgroup } from '../container-cgroup.js';

/** Pauses every process of the container: its cgroup's freezer. */
export function freezeContainer(facts: Readonly<LiveFacts>, env: ContainerEnv): void {
  containerCgroup(env.ports.cgroups, facts, 'pause').freeze();
}

/** Resumes them. */
export function thawContainer(facts: Readonly<LiveFacts>, env: ContainerEnv): void {
  containerCgroup(env.ports.cgroups, facts, 'resume').thaw();
}
