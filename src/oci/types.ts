/**
 * TypeScript shapes of the OCI runtime spec 1.2 (config.json and the state JSON).
 *
 * Field names are the spec's exact JSON names, so a parsed config.json is a `Spec` after validation
 * (see `validateSpec` in ./config.ts). Optional fields are optional here even where Go uses a zero value,
 * because JSON written by other tools may omit them. 64-bit integers are plain `number`s: values above
 * 2^53 (e.g. RLIM_INFINITY written as 18446744073709551615) arrive rounded, so code that hands them to the
 * kernel must treat values >= 2^64 - 1 as "infinity".
 *
 * Unknown extra fields are allowed everywhere (forward compatibility), hence no exact-object types.
 *
 * @example
 * import type { Spec } from './types.js';
 * const args: string[] = (spec as Spec).process?.args ?? [];
 */

// The OCI lifecycle status is the chart's top-level state: defined once, in src/machines.
import type { ContainerStatus } from '../machines/container.js';
export type { ContainerStatus };

/** The state JSON handed to hooks on stdin and printed (with extras) by `runts state`. */
export interface State {
  ociVersion: string;
  id: string;
  status: ContainerStatus;
  /** Host pid of the container's init; runc writes 0 once the container is stopped. */
  pid?: number;
  /** Absolute path of the bundle directory. */
  bundle: string;
  annotations?: Record<string, string>;
}

/** The whole config.json. */
export interface Spec {
  ociVersion: string;
  process?: Process;
  root?: Root;
  hostname?: string;
  domainname?: string;
  mounts?: Mount[];
  hooks?: Hooks;
  annotations?: Record<string, string>;
  linux?: Linux;
  /** Other platforms: accepted and ignored by runts. */
  solaris?: unknown;
  windows?: unknown;
  vm?: unknown;
  zos?: unknown;
}

export interface Root {
  /** Relative to the bundle, or absolute. */
  path: string;
  readonly?: boolean;
}

export interface Box {
  height: number;
  width: number;
}

export interface User {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
  username?: string;
}

export interface LinuxCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface POSIXRlimit {
  /** An `RLIMIT_*` name, e.g. RLIMIT_NOFILE. */
  type: string;
  hard: number;
  soft: number;
}

export type LinuxSchedulerPolicy =
  | 'SCHED_OTHER'
  | 'SCHED_FIFO'
  | 'SCHED_RR'
  | 'SCHED_BATCH'
  | 'SCHED_ISO'
  | 'SCHED_IDLE'
  | 'SCHED_DEADLINE';

export type LinuxSchedulerFlag =
  | 'SCHED_FLAG_RESET_ON_FORK'
  | 'SCHED_FLAG_RECLAIM'
  | 'SCHED_FLAG_DL_OVERRUN'
  | 'SCHED_FLAG_KEEP_POLICY'
  | 'SCHED_FLAG_KEEP_PARAMS'
  | 'SCHED_FLAG_UTIL_CLAMP_MIN'
  | 'SCHED_FLAG_UTIL_CLAMP_MAX';

export interface Scheduler {
  policy: LinuxSchedulerPolicy;
  nice?: number;
  priority?: number;
  flags?: LinuxSchedulerFlag[];
  runtime?: number;
  deadline?: number;
  period?: number;
}

export type IOPriorityClass = 'IOPRIO_CLASS_RT' | 'IOPRIO_CLASS_BE' | 'IOPRIO_CLASS_IDLE';

export interface LinuxIOPriority {
  class: IOPriorityClass;
  priority: number;
}

export interface CPUAffinity {
  initial?: string;
  final?: string;
}

export interface Process {
  terminal?: boolean;
  consoleSize?: Box;
  user: User;
  args?: string[];
  /** Windows only. */
  commandLine?: string;
  env?: string[];
  cwd: string;
  capabilities?: LinuxCapabilities;
  rlimits?: POSIXRlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  scheduler?: Scheduler;
  selinuxLabel?: string;
  ioPriority?: LinuxIOPriority;
  execCPUAffinity?: CPUAffinity;
}

export interface LinuxIDMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface Mount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
  uidMappings?: LinuxIDMapping[];
  gidMappings?: LinuxIDMapping[];
}

export interface Hook {
  /** Absolute path of the executable, resolved in the namespace the hook runs in. */
  path: string;
  /** Full argv, args[0] included (it is argv0, like execv). */
  args?: string[];
  /** The hook's whole environment (`KEY=value`); nothing is inherited. */
  env?: string[];
  /** Seconds; > 0. */
  timeout?: number;
}

export interface Hooks {
  /** Deprecated by the spec in favour of createRuntime, still run by runc. */
  prestart?: Hook[];
  createRuntime?: Hook[];
  createContainer?: Hook[];
  startContainer?: Hook[];
  poststart?: Hook[];
  poststop?: Hook[];
}

export type LinuxNamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';

export interface LinuxNamespace {
  type: LinuxNamespaceType;
  /** Join this existing namespace (e.g. /proc/123/ns/net) instead of creating one. */
  path?: string;
}

export interface LinuxDevice {
  /** c (char), b (block), u (unbuffered char), p (FIFO). */
  type: 'c' | 'b' | 'u' | 'p';
  path: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

/** One rule of the devices cgroup (allow/deny list). */
export interface LinuxDeviceCgroup {
  allow: boolean;
  /** a (all), c or b. */
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  /** Any combination of r, w, m. */
  access?: string;
}

export interface LinuxMemory {
  limit?: number;
  reservation?: number;
  swap?: number;
  kernel?: number;
  kernelTCP?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
}

export interface LinuxCPU {
  shares?: number;
  quota?: number;
  burst?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
  idle?: number;
}

export interface LinuxPids {
  limit: number;
}

export interface LinuxWeightDevice {
  major: number;
  minor: number;
  weight?: number;
  leafWeight?: number;
}

export interface LinuxThrottleDevice {
  major: number;
  minor: number;
  rate: number;
}

export interface LinuxBlockIO {
  weight?: number;
  leafWeight?: number;
  weightDevice?: LinuxWeightDevice[];
  throttleReadBpsDevice?: LinuxThrottleDevice[];
  throttleWriteBpsDevice?: LinuxThrottleDevice[];
  throttleReadIOPSDevice?: LinuxThrottleDevice[];
  throttleWriteIOPSDevice?: LinuxThrottleDevice[];
}

export interface LinuxHugepageLimit {
  /** e.g. "2MB", "1GB". */
  pageSize: string;
  limit: number;
}

export interface LinuxInterfacePriority {
  name: string;
  priority: number;
}

export interface LinuxNetwork {
  classID?: number;
  priorities?: LinuxInterfacePriority[];
}

export interface LinuxRdma {
  hcaHandles?: number;
  hcaObjects?: number;
}

export interface LinuxResources {
  devices?: LinuxDeviceCgroup[];
  memory?: LinuxMemory;
  cpu?: LinuxCPU;
  pids?: LinuxPids;
  blockIO?: LinuxBlockIO;
  hugepageLimits?: LinuxHugepageLimit[];
  network?: LinuxNetwork;
  rdma?: Record<string, LinuxRdma>;
  /** cgroup v2 files, e.g. { "memory.high": "1G" }. */
  unified?: Record<string, string>;
}

export type SeccompAction =
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG'
  | 'SCMP_ACT_NOTIFY';

export type SeccompOperator =
  | 'SCMP_CMP_NE'
  | 'SCMP_CMP_LT'
  | 'SCMP_CMP_LE'
  | 'SCMP_CMP_EQ'
  | 'SCMP_CMP_GE'
  | 'SCMP_CMP_GT'
  | 'SCMP_CMP_MASKED_EQ';

export interface LinuxSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOperator;
}

export interface LinuxSyscall {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: LinuxSeccompArg[];
}

export interface LinuxSeccomp {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  /** SCMP_ARCH_* names. */
  architectures?: string[];
  /** SECCOMP_FILTER_FLAG_* names. */
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: LinuxSyscall[];
}

export interface LinuxIntelRdt {
  closID?: string;
  l3CacheSchema?: string;
  memBwSchema?: string;
  enableCMT?: boolean;
  enableMBM?: boolean;
}

export interface LinuxPersonality {
  domain: 'LINUX' | 'LINUX32';
  flags?: string[];
}

export interface LinuxTimeOffset {
  secs?: number;
  nanosecs?: number;
}

export type RootfsPropagation =
  | 'private'
  | 'rprivate'
  | 'slave'
  | 'rslave'
  | 'shared'
  | 'rshared'
  | 'unbindable'
  | 'runbindable';

export interface Linux {
  namespaces?: LinuxNamespace[];
  uidMappings?: LinuxIDMapping[];
  gidMappings?: LinuxIDMapping[];
  devices?: LinuxDevice[];
  cgroupsPath?: string;
  resources?: LinuxResources;
  rootfsPropagation?: RootfsPropagation;
  seccomp?: LinuxSeccomp;
  sysctl?: Record<string, string>;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
  intelRdt?: LinuxIntelRdt;
  personality?: LinuxPersonality;
  /** Keys "monotonic" and "boottime"; needs a time namespace. */
  timeOffsets?: Record<string, LinuxTimeOffset>;
}
