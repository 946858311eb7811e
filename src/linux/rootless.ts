import { readFileSync } from 'node:fs';
import type { PlanHeader } from '../native/plan.js';
import { RLIMIT, RLIM_INFINITY } from '../native/plan.js';
import { findSystemBinary } from './system-binary.js';
import type { LinuxIDMapping, Spec } from '../oci/types.js';
import { PlanError } from '../errors.js';

/**
 * runts without root ("rootless", as runc calls it): what an ordinary user's container may get. The rule is that it
 * never gets more than the user has: ids only from the user's own and its subordinate ranges (/etc/subuid,
 * /etc/subgid, through the setuid newuidmap/newgidmap), rlimits no higher than the user's, oom_score_adj no lower,
 * cgroups only where they were delegated to the user (src/linux/cgroups: create's skipDenied).
 */

/**
 * True when runts runs without the host's root: as a user other than root, or as root of a user namespace other than
 * the host's (rootless Podman runs its runtime so, in the user's namespace) — where cgroups, device nodes and limits
 * are as out of reach as for the user itself.
 */
export function isRootless(euid = process.geteuid?.() ?? 0): boolean {
  return euid !== 0 || inUserNamespace();
}

let inUserNs: boolean | undefined;
/** The process is not in the host's user namespace (whose uid_map maps every id onto itself). */
export function inUserNamespace(): boolean {
  if (inUserNs === undefined) {
    let map = '';
    try {
      map = readFileSync('/proc/self/uid_map', 'utf8');
    } catch {
      // No /proc: assume the host's namespace, as the privileged path always has.
    }
    inUserNs = map !== '' && !/^\s*0\s+0\s+4294967295\s*$/.test(map);
  }
  return inUserNs;
}

/** What the calling user has, read from the kernel once per create. */
export interface RootlessHost {
  euid: number;
  egid: number;
  /** Each rlimit's current hard limit (RLIMIT number → value; RLIM_INFINITY as 2^64-1). */
  hardLimits: Map<number, bigint>;
  oomScoreAdj: number;
  /** Absolute paths of newuidmap/newgidmap (Debian's uidmap package), when installed. */
  newuidmap?: string;
  newgidmap?: string;
}

const LIMIT_NAMES: Record<string, string> = {
  'Max cpu time': 'RLIMIT_CPU',
  'Max file size': 'RLIMIT_FSIZE',
  'Max data size': 'RLIMIT_DATA',
  'Max stack size': 'RLIMIT_STACK',
  'Max core file size': 'RLIMIT_CORE',
  'Max resident set': 'RLIMIT_RSS',
  'Max processes': 'RLIMIT_NPROC',
  'Max open files': 'RLIMIT_NOFILE',
  'Max locked memory': 'RLIMIT_MEMLOCK',
  'Max address space': 'RLIMIT_AS',
  'Max file locks': 'RLIMIT_LOCKS',
  'Max pending signals': 'RLIMIT_SIGPENDING',
  'Max msgqueue size': 'RLIMIT_MSGQUEUE',
  'Max nice priority': 'RLIMIT_NICE',
  'Max realtime priority': 'RLIMIT_RTPRIO',
  'Max realtime timeout': 'RLIMIT_RTTIME',
};

/** The hard limits of /proc/self/limits ("Max open files  1024  524288  files"). */
export function parseHardLimits(text: string): Map<number, bigint> {
  const out = new Map<number, bigint>();
  for (const line of text.split('\n').slice(1)) {
    const name = Object.keys(LIMIT_NAMES).find((n) => line.startsWith(n));
    if (!name) continue;
    const hard = line.slice(name.length).trim().split(/\s+/)[1];
    if (hard === undefined) continue;
    out.set(RLIMIT[LIMIT_NAMES[name]], hard === 'unlimited' ? RLIM_INFINITY : BigInt(hard));
  }
  return out;
}

export function readRootlessHost(): RootlessHost {
  return {
    euid: process.geteuid?.() ?? 0,
    egid: process.getegid?.() ?? 0,
    hardLimits: parseHardLimits(readFileSync('/proc/self/limits', 'utf8')),
    oomScoreAdj: Number(readFileSync('/proc/self/oom_score_adj', 'utf8').trim()),
    newuidmap: findSystemBinary('newuidmap'),
    newgidmap: findSystemBinary('newgidmap'),
  };
}

/** A map that is just the caller's own id (one id): the kernel lets the caller write it itself. */
function ownIdOnly(maps: LinuxIDMapping[] | undefined, id: number): boolean {
  return maps?.length === 1 && maps[0].hostID === id && maps[0].size === 1;
}

/**
 * How the parent writes a new user namespace's maps without root: the caller's own id alone it writes itself (with
 * setgroups "deny" first, as the kernel requires for gid_map); anything more goes through newuidmap/newgidmap, which
 * check the ranges against /etc/subuid and /etc/subgid.
 */
export function rootlessIdMapping(spec: Spec, host: RootlessHost): Pick<PlanHeader, 'setgroups' | 'uidMapper' | 'gidMapper'> {
  const linux = spec.linux ?? {};
  const out: Pick<PlanHeader, 'setgroups' | 'uidMapper' | 'gidMapper'> = {};
  // Root of a user namespace writes a child namespace's maps itself (within the ids its own namespace maps).
  if (host.euid === 0) return out;
  const need = (helper: string | undefined, name: string, file: string): string => {
    if (helper) return helper;
    throw new PlanError(
      'bad_config',
      `config.json maps more than your own ${name} in linux.${name}Mappings, which needs ${name === 'uid' ? 'newuidmap' : 'newgidmap'} (install the uidmap package) and ranges in ${file}; or map only your own ${name} (runts spec --rootless)`,
    );
  };
  if (!ownIdOnly(linux.uidMappings, host.euid)) out.uidMapper = need(host.newuidmap, 'uid', '/etc/subuid');
  if (ownIdOnly(linux.gidMappings, host.egid)) out.setgroups = 'deny';
  else out.gidMapper = need(host.newgidmap, 'gid', '/etc/subgid');
  return out;
}

/**
 * The config with what the kernel will not give an unprivileged user brought within reach, each change a warning
 * (runc fails on them; Podman's rootless configs ask for more than a user's limits): an rlimit above the user's hard
 * limit is lowered to it (raising a hard limit needs CAP_SYS_RESOURCE in the host's user namespace), an
 * oom_score_adj below the user's own is raised to it (lowering it needs the same).
 */
export function rootlessProcessLimits(spec: Spec, host: RootlessHost): { spec: Spec; warnings: string[] } {
  const process = spec.process;
  if (!process) return { spec, warnings: [] };
  const warnings: string[] = [];
  const rlimits = (process.rlimits ?? []).map((r) => {
    const max = host.hardLimits.get(RLIMIT[r.type]);
    if (max === undefined || max === RLIM_INFINITY) return r;
    const capped = Number(max);
    if (r.hard <= capped && r.soft <= capped) return r;
    warnings.push(`process.rlimits ${r.type} (soft ${r.soft}, hard ${r.hard}) is above your hard limit ${capped}: without root it is lowered to ${capped}`);
    return { ...r, hard: Math.min(r.hard, capped), soft: Math.min(r.soft, capped) };
  });
  let oomScoreAdj = process.oomScoreAdj;
  if (oomScoreAdj !== undefined && oomScoreAdj < host.oomScoreAdj) {
    warnings.push(`process.oomScoreAdj ${oomScoreAdj} is below your own ${host.oomScoreAdj}: without root it is raised to ${host.oomScoreAdj}`);
    oomScoreAdj = host.oomScoreAdj;
  }
  if (warnings.length === 0) return { spec, warnings };
  return { spec: { ...spec, process: { ...process, rlimits: process.rlimits ? rlimits : undefined, oomScoreAdj } }, warnings };
}

/** A container made without root in a user namespace of its own: hooks join that namespace to enter the others. */
export function rootlessUserNs(facts: { rootless?: boolean; spec?: Spec }): boolean {
  return facts.rootless === true && (facts.spec?.linux?.namespaces ?? []).some((n) => n.type === 'user');
}
