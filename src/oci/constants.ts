/**
 * Name tables of the OCI runtime spec for Linux, with the kernel numbers the native plan needs.
 * Lookups go through `Map`s (never plain objects) so a name like "constructor" or "__proto__" taken from
 * a hostile config.json can never match something inherited from Object.prototype.
 */

/** Linux capability numbers (include/uapi/linux/capability.h), in kernel order. */
export const CAPABILITIES: ReadonlyMap<string, number> = new Map([
  ['CAP_CHOWN', 0],
  ['CAP_DAC_OVERRIDE', 1],
  ['CAP_DAC_READ_SEARCH', 2],
  ['CAP_FOWNER', 3],
  ['CAP_FSETID', 4],
  ['CAP_KILL', 5],
  ['CAP_SETGID', 6],
  ['CAP_SETUID', 7],
  ['CAP_SETPCAP', 8],
  ['CAP_LINUX_IMMUTABLE', 9],
  ['CAP_NET_BIND_SERVICE', 10],
  ['CAP_NET_BROADCAST', 11],
  ['CAP_NET_ADMIN', 12],
  ['CAP_NET_RAW', 13],
  ['CAP_IPC_LOCK', 14],
  ['CAP_IPC_OWNER', 15],
  ['CAP_SYS_MODULE', 16],
  ['CAP_SYS_RAWIO', 17],
  ['CAP_SYS_CHROOT', 18],
  ['CAP_SYS_PTRACE', 19],
  ['CAP_SYS_PACCT', 20],
  ['CAP_SYS_ADMIN', 21],
  ['CAP_SYS_BOOT', 22],
  ['CAP_SYS_NICE', 23],
  ['CAP_SYS_RESOURCE', 24],
  ['CAP_SYS_TIME', 25],
  ['CAP_SYS_TTY_CONFIG', 26],
  ['CAP_MKNOD', 27],
  ['CAP_LEASE', 28],
  ['CAP_AUDIT_WRITE', 29],
  ['CAP_AUDIT_CONTROL', 30],
  ['CAP_SETFCAP', 31],
  ['CAP_MAC_OVERRIDE', 32],
  ['CAP_MAC_ADMIN', 33],
  ['CAP_SYSLOG', 34],
  ['CAP_WAKE_ALARM', 35],
  ['CAP_BLOCK_SUSPEND', 36],
  ['CAP_AUDIT_READ', 37],
  ['CAP_PERFMON', 38],
  ['CAP_BPF', 39],
  ['CAP_CHECKPOINT_RESTORE', 40],
]);

/** RLIMIT_* resource numbers (asm-generic/resource.h; identical on x86_64 and arm64). */
export const RLIMITS: ReadonlyMap<string, number> = new Map([
  ['RLIMIT_CPU', 0],
  ['RLIMIT_FSIZE', 1],
  ['RLIMIT_DATA', 2],
  ['RLIMIT_STACK', 3],
  ['RLIMIT_CORE', 4],
  ['RLIMIT_RSS', 5],
  ['RLIMIT_NPROC', 6],
  ['RLIMIT_NOFILE', 7],
  ['RLIMIT_MEMLOCK', 8],
  ['RLIMIT_AS', 9],
  ['RLIMIT_LOCKS', 10],
  ['RLIMIT_SIGPENDING', 11],
  ['RLIMIT_MSGQUEUE', 12],
  ['RLIMIT_NICE', 13],
  ['RLIMIT_RTPRIO', 14],
  ['RLIMIT_RTTIME', 15],
]);

/** clone(2)/setns(2) flag of each OCI namespace type, in the spec's order. */
export const NAMESPACE_FLAGS: ReadonlyMap<string, number> = new Map([
  ['pid', 0x20000000], // CLONE_NEWPID
  ['network', 0x40000000], // CLONE_NEWNET
  ['mount', 0x00020000], // CLONE_NEWNS
  ['ipc', 0x08000000], // CLONE_NEWIPC
  ['uts', 0x04000000], // CLONE_NEWUTS
  ['user', 0x10000000], // CLONE_NEWUSER
  ['cgroup', 0x02000000], // CLONE_NEWCGROUP
  ['time', 0x00000080], // CLONE_NEWTIME
]);

/** OCI namespace type names, in the spec's order. */
export const NAMESPACE_TYPES: readonly string[] = [...NAMESPACE_FLAGS.keys()];

/** Hook points in the order they fire over a container's life. */
export const HOOK_POINTS = [
  'prestart',
  'createRuntime',
  'createContainer',
  'startContainer',
  'poststart',
  'poststop',
] as const;

export const SECCOMP_ACTIONS: readonly string[] = [
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_TRAP',
];

export const SECCOMP_OPERATORS: readonly string[] = [
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_LE',
  'SCMP_CMP_LT',
  'SCMP_CMP_MASKED_EQ',
  'SCMP_CMP_NE',
];

export const SECCOMP_ARCHS: readonly string[] = [
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_RISCV64',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
];

export const SECCOMP_FLAGS: readonly string[] = [
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
];

export const SCHEDULER_POLICIES: readonly string[] = [
  'SCHED_OTHER',
  'SCHED_FIFO',
  'SCHED_RR',
  'SCHED_BATCH',
  'SCHED_ISO',
  'SCHED_IDLE',
  'SCHED_DEADLINE',
];

export const SCHEDULER_FLAGS: readonly string[] = [
  'SCHED_FLAG_RESET_ON_FORK',
  'SCHED_FLAG_RECLAIM',
  'SCHED_FLAG_DL_OVERRUN',
  'SCHED_FLAG_KEEP_POLICY',
  'SCHED_FLAG_KEEP_PARAMS',
  'SCHED_FLAG_UTIL_CLAMP_MIN',
  'SCHED_FLAG_UTIL_CLAMP_MAX',
];

export const IOPRIO_CLASSES: readonly string[] = ['IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE'];

export const PERSONALITY_DOMAINS: readonly string[] = ['LINUX', 'LINUX32'];

export const ROOTFS_PROPAGATIONS: readonly string[] = [
  'private',
  'rprivate',
  'slave',
  'rslave',
  'shared',
  'rshared',
  'unbindable',
  'runbindable',
];
