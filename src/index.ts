/**
 * runts as a library: `import { Runtime } from 'runts'`.
 *
 * @example
 * import { Runtime } from 'runts';
 * const rt = await Runtime.open({ root: '/run/runts' });
 * await rt.create('web', { bundle: '/srv/bundles/web' });
 * await rt.start('web');
 * for await (const ev of rt.events({ id: 'web' })) console.log(ev);
 */
import type { ErrorCode } from './errors.js';

export {
  Runtime,
  RuntimeError,
  DEFAULT_ROOT,
  type ContainerState,
  type RuntimeOptions,
  type CreateOptions,
  type ExecOptions,
  type RunOptions,
  type ExecHandle,
  type RuntimeApi,
  type EventsOptions,
  type RuntimeEvent,
  type TransitionEvent,
  type ExitEvent,
  type TransitionRecord,
  type Resident,
  type ServeOptions,
  type RepairReport,
} from './runtime.js';
export { RuntsError, isRuntsError, type ErrorCode } from './errors.js';
export type { ContainerStatus } from './machines/container.js';
export type { CgroupStats } from './linux/cgroups/index.js';
export type { LinuxResources, Process, Spec } from './oci/types.js';

/** Every `code` a RuntsError can carry (see ErrorCode). */
export const ERROR_CODES: readonly ErrorCode[] = ['not_found', 'exists', 'bad_state', 'conflict', 'bad_config', 'ambiguous', 'sys'];
