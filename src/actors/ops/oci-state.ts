import type { State } from '../../oci/types.js';
import type { LiveContainer } from '../ports.js';
import type { ContainerStatus } from '../../machines/container.js';

/** The OCI state handed to hooks. */
export function hookState(c: LiveContainer, status: ContainerStatus): State {
  const { id, bundle, initPid, annotations } = c.facts;
  return {
    ociVersion: '1.2.0',
    id,
    status,
    pid: status === 'stopped' ? 0 : initPid,
    bundle,
    ...(annotations && Object.keys(annotations).length ? { annotations } : {}),
  } as State;
}
