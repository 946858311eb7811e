import type { ContainerEnv, LiveFacts } from '../ports.js';

/** Pauses every process of the container: its cgroup's freezer. */
export function freezeContainer(facts: Readonly<LiveFacts>, env: ContainerEnv): void {
  env.ports.cgroups.open(facts.cgroupPath).freeze();
}

/** Resumes them. */
export function thawContainer(facts: Readonly<LiveFacts>, env: ContainerEnv): void {
  env.ports.cgroups.open(facts.cgroupPath).thaw();
}
