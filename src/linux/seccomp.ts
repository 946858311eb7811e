/**
 * OCI `linux.seccomp` → the BPF program a plan's `seccomp` op installs. libseccomp compiles it in the runtime's
 * process (src/native/seccomp.cc): the cloned child only hands the finished bytes to prctl(PR_SET_SECCOMP), since
 * libseccomp allocates and a child of a multithreaded process must not.
 */
import { RuntsError, type ErrorCode } from '../errors.js';
import { nativePort } from '../native/index.js';
import { PLAN_LIMITS } from '../native/plan.js';
import { SeccompCompileError, type SyscallPort } from '../native/port.js';
import type { LinuxSeccomp } from '../oci/types.js';

/** Actions runts applies (SCMP_ACT_NOTIFY is refused: there is no seccomp listener support). */
export const SUPPORTED_SECCOMP_ACTIONS: readonly string[] = [
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_LOG',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_TRAP',
];

export const SUPPORTED_SECCOMP_OPERATORS: readonly string[] = [
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_LE',
  'SCMP_CMP_LT',
  'SCMP_CMP_MASKED_EQ',
  'SCMP_CMP_NE',
];

/** The architectures Debian 12's libseccomp (2.5) knows; LoongArch needs 2.6. Must match kArchs in seccomp.cc. */
export const SUPPORTED_SECCOMP_ARCHS: readonly string[] = [
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_ARM',
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

/**
 * A seccomp profile runts cannot apply. Message: `linux.seccomp.syscalls[0].action: unknown action "SCMP_ACT_FOO":
 * use one of ...`. Code 'bad_config' (fix the profile), or 'sys' when libseccomp itself failed.
 */
export class SeccompError extends RuntsError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * Compiles the container's profile into a `struct sock_filter[]` for `PlanBuilder.seccomp`. Unknown syscall names
 * are skipped (as runc does: a profile lists syscalls of every architecture); `flags` are not applied (the filter
 * is installed with prctl, which takes none; TSYNC is moot for a single-threaded init).
 * @throws SeccompError for an unknown action, architecture or operator, SCMP_ACT_NOTIFY, or a program longer
 * than the kernel accepts.
 * @example
 * const bpf = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] });
 * plan.seccomp(bpf);
 */
export function compileSeccomp(profile: LinuxSeccomp, sys: Pick<SyscallPort, 'compileSeccomp'> = nativePort()): Buffer {
  let bpf: Buffer;
  try {
    bpf = sys.compileSeccomp({
      defaultAction: profile.defaultAction,
      defaultErrnoRet: profile.defaultErrnoRet,
      architectures: profile.architectures,
      syscalls: (profile.syscalls ?? []).map((s) => ({
        names: s.names,
        action: s.action,
        errnoRet: s.errnoRet,
        args: s.args?.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo, op: a.op })),
      })),
    });
  } catch (e) {
    if (e instanceof SeccompCompileError) {
      // The addon's message starts with its field ("syscalls[0].action: ..."): prefix where it lives in config.json.
      throw new SeccompError(e.code, `linux.seccomp.${e.message}`, { cause: e });
    }
    throw e;
  }
  const insns = bpf.length / 8;
  if (insns > PLAN_LIMITS.maxBpfInsns) {
    throw new SeccompError(
      'bad_config',
      `linux.seccomp compiles to ${insns} BPF instructions, more than the kernel's ${PLAN_LIMITS.maxBpfInsns}: merge rules or list fewer syscalls`,
    );
  }
  return bpf;
}
