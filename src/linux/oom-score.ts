import type { Spec } from '../oci/types.js';

/** CRI's annotation naming what a container is in its pod. */
export const CONTAINER_TYPE = 'io.kubernetes.cri.container-type';
export const SANDBOX_ID = 'io.kubernetes.cri.sandbox-id';

/** What the OOM rules need of each container of a sandbox. */
export interface OomMember {
  id: string;
  /** 'sandbox' (the pause container), 'container', or undefined when not under CRI. */
  type: string | undefined;
  oomScoreAdj: number | undefined;
  goferPid: number;
}

export interface OomPlan {
  /** Score for the sandbox init, or undefined to leave it as it is. */
  sandboxScore: number | undefined;
  /** Each gofer's score: its own container's. */
  gofers: { pid: number; score: number }[];
}

/**
 * The sandbox's OOM scores (gVisor's rules, kept): the sandbox init gets the lowest `process.oomScoreAdj` of its
 * containers — a lone container without CRI annotations gets its own; with several, the sandbox (pause) container
 * does not count, since its very low score would shield everything. After a destroy, when no remaining container
 * sets one, the sandbox reverts to its parent's score. Pure: the caller reads the facts and writes the files.
 */
export function planOomScores(members: OomMember[], destroyed: boolean, parentScore: () => number | null): OomPlan {
  const gofers = members.filter((m) => m.goferPid > 0 && m.oomScoreAdj !== undefined).map((m) => ({ pid: m.goferPid, score: m.oomScoreAdj! }));
  let lowest: number | undefined;
  if (members.length === 1 && members[0].type === undefined) {
    lowest = members[0].oomScoreAdj;
  } else {
    for (const m of members) {
      if (m.type === 'sandbox' || m.oomScoreAdj === undefined) continue;
      if (lowest === undefined || m.oomScoreAdj < lowest) lowest = m.oomScoreAdj;
    }
  }
  if (lowest === undefined && destroyed) lowest = parentScore() ?? undefined;
  return { sandboxScore: lowest, gofers };
}

export function oomMember(id: string, spec: Spec, goferPid: number): OomMember {
  return { id, type: spec.annotations?.[CONTAINER_TYPE], oomScoreAdj: spec.process?.oomScoreAdj, goferPid };
}
