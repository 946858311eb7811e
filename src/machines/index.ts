/**
 * Registry of every statechart runts ships, for docs generation and the visualizer.
 * Add a machine here and `npm run docs` draws it.
 */
import type { AnyStateMachine } from 'xstate';
import { containerMachine } from './container.js';

export * from './container.js';
export * from './observe.js';

/** Every machine, by a stable file-safe name (used as docs/statecharts/<name>.*). */
export const machines: { name: string; machine: AnyStateMachine }[] = [{ name: 'container', machine: containerMachine() }];
