/**
 * OCI `linux.seccomp` → the BPF program a plan's `seccomp` op installs. libseccomp compiles it in the runtime's
 * process (src/native/seccomp.cc): runts-init only hands the finished bytes to prctl(PR_SET_SECCOMP), and stays free
 * of libseccomp (small, static, and nothing that allocates).
 */
import { RuntsError, type ErrorCode } from '../errors.js';
import { PLAN_LIMITS } from '../native/plan.js';
import { SeccompCompileError, type SyscallPort } from '../native/port.js';
import type { LinuxSeccomp } from '../oci/types.js';
import { SECCOMP_ACTIONS, SECCOMP_ARCHS, SECCOMP_OPERATORS } from '../oci/constants.js';
import { OCI_VERSION } from '../oci/default-spec.js';

/** Actions runts applies: every OCI one (SCMP_ACT_NOTIFY with a seccomp agent at `listenerPath`). */
export const SUPPORTED_SECCOMP_ACTIONS: readonly string[] = SECCOMP_ACTIONS;

/** Whether the profile has SCMP_ACT_NOTIFY rules: its filter is installed with a listener for the seccomp agent. */
export function hasNotifyRules(profile: LinuxSeccomp | undefined): boolean {
  return profile?.syscalls?.some((s) => s.action === 'SCMP_ACT_NOTIFY') ?? false;
}

/**
 * Hands a process's seccomp listener to the agent at `linux.seccomp.listenerPath` as runc does: one message on a
 * new connection, the OCI ContainerProcessState JSON with the fd (SCM_RIGHTS); then our copy is closed, always.
 * @throws SeccompError (sys) naming the socket when the agent cannot be reached.
 */
export function sendToSeccompAgent(
  profile: LinuxSeccomp,
  listenerFd: number,
  processPid: number,
  state: object,
  sys: Pick<SyscallPort, 'sendFdTo' | 'closeFd'>,
): void {
  try {
    const message = { ociVersion: OCI_VERSION, fds: ['seccompFd'], pid: processPid, metadata: profile.listenerMetadata ?? '', state };
    sys.sendFdTo(profile.listenerPath!, listenerFd, JSON.stringify(message));
  } catch (e) {
    throw new SeccompError(
      'sys',
      `cannot hand the seccomp listener to the agent at linux.seccomp.listenerPath ${profile.listenerPath}: ${(e as { errnoName?: string }).errnoName ?? (e as Error).message}: start the agent first`,
      { cause: e },
    );
  } finally {
    sys.closeFd(listenerFd);
  }
}

export const SUPPORTED_SECCOMP_OPERATORS: readonly string[] = SECCOMP_OPERATORS;

/** The architectures Debian 12's libseccomp (2.5) knows: the OCI ones but LoongArch (2.6). Must match kArchs in seccomp.cc. */
export const SUPPORTED_SECCOMP_ARCHS: readonly string[] = SECCOMP_ARCHS.filter((a) => a !== 'SCMP_ARCH_LOONGARCH64');

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
 * @throws SeccompError for an unknown action, architecture or operator, or a program longer
 * than the kernel accepts.
 * @example
 * const bpf = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] }, nativePort());
 * plan.seccomp(bpf);
 */
export function compileSeccomp(profile: LinuxSeccomp, sys: Pick<SyscallPort, 'compileSeccomp'>): Buffer {
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
