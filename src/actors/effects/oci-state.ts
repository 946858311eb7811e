import { ociState } from '../../oci/state.js';
import type { State } from '../../oci/types.js';
import type { LiveFacts } from '../ports.js';
import type { ContainerStatus } from '../../machines/container.js';

/** The OCI state handed to hooks (the runtime spec's shape: src/oci/state.ts). */
export function hookState(facts: Readonly<LiveFacts>, status: ContainerStatus): State {
  const { id, bundle, initPid, annotations } = facts;
  return ociState({ id, status, pid: initPid, bundle, annotations });
}
