import { RuntsError } from '../errors.js';
import type { SyscallPort } from '../native/port.js';
import { CAPABILITIES } from '../native/plan.js';
import { NativeSpawnError } from '../native/port.js';
import type { LinuxCapabilities } from '../oci/types.js';

export class ContainerSpawnError extends RuntsError {}

/** What to do about a failed step of the container's setup, by operation (the rest get a generic hint). */
const HINTS: Record<string, (path: string, errno: string) => string> = {
  checkExec: (p, errno) =>
    errno === 'EACCES'
      ? `cannot run "${p}": it is not executable in the container: check process.args[0] and the file's mode`
      : `cannot run "${p}": not found in the container's rootfs: check process.args[0] and PATH`,
  chdir: (p) => `cannot use "${p}" as working directory: it does not exist in the container (check process.cwd)`,
  // EXDEV is the init's refusal of a destination that a link of the image leads into /proc or /sys.
  mount: (p, errno) =>
    errno === 'EXDEV'
      ? `cannot mount on "${p}": it leads into the container's /proc or /sys through a symlink in the rootfs (EXDEV): fix the image or the mount's destination in config.json`
      : `cannot mount on "${p}" (${errno}): check the mounts in config.json and the rootfs`,
  setrlimit: (_p, errno) => `cannot set an rlimit (${errno}): a hard limit above the current one needs CAP_SYS_RESOURCE`,
};

/** Ops that resolve their path inside the rootfs (rootfsOpen until pivotRoot): ELOOP is the image's doing. */
const IN_ROOT = new Set(['mkdirP', 'mkfile', 'mknod', 'symlink', 'chown', 'chmod', 'mount']);
const loopHint = (p: string) =>
  `cannot make "${p}" in the container: it leads through a /proc magic link (like /proc/self/root), a dangling or too many symlinks in the rootfs (ELOOP): fix the image or the path in config.json`;
const notProcHint = (p: string) =>
  `refused to write "${p}": it is not on the container's own ${p.startsWith('/sys/') ? 'sysfs' : 'procfs'} (EXDEV): remove what is mounted over it from config.json`;

/**
 * The capabilities a process asks capset() for that runts itself does not hold. capset may only keep what the
 * caller has, so these are why a `caps` op fails with EPERM: runts cannot give what it lacks (runc fails the same
 * way, with a bare EPERM). A bounding-set entry alone is no error (dropping what is not there is a no-op), and in a
 * user namespace the kernel grants the process every capability of that namespace, so nothing is lacking there.
 */
export function lackedCapabilities(caps: LinuxCapabilities | undefined, own: bigint): string[] {
  const asked = new Set([...(caps?.effective ?? []), ...(caps?.permitted ?? []), ...(caps?.inheritable ?? [])]);
  return Object.entries(CAPABILITIES)
    .filter(([name, bit]) => asked.has(name) && !(own & (1n << BigInt(bit))))
    .map(([name]) => name);
}

/** The process a spawn was for, when the error may be about it. */
export interface SpawnedProcess {
  capabilities?: LinuxCapabilities;
  /** The process is in a user namespace (new or joined): its capabilities are that namespace's. */
  userns: boolean;
}

/**
 * Turns the addon's `{operation, errno, path}` into one line that names the container, the cause and the fix,
 * e.g. `container "web": cannot run "/no/such/binary": not found in the container's rootfs: check ...`.
 */
export function describeSpawnError(id: string, e: unknown, sys: Pick<SyscallPort, 'ownPermittedCaps'>, proc?: SpawnedProcess): unknown {
  if (!(e instanceof NativeSpawnError)) return e;
  if (e.operation === 'caps' && e.errnoName === 'EPERM' && proc && !proc.userns) {
    const own = sys.ownPermittedCaps();
    const lacked = own === null ? [] : lackedCapabilities(proc.capabilities, own);
    if (lacked.length > 0) {
      const names = lacked.join(', ');
      const them = lacked.length > 1 ? 'them' : 'it';
      return new ContainerSpawnError(
        'bad_config',
        `container "${id}": process.capabilities asks for ${names}, which runts itself does not have: ` +
          `remove ${them} from process.capabilities, or run runts with ${them}`,
        { cause: e },
      );
    }
  }
  const hint = e.errnoName === 'ELOOP' && IN_ROOT.has(e.operation) ? loopHint : e.errnoName === 'EXDEV' && e.operation === 'writeFile' ? notProcHint : HINTS[e.operation];
  const path = (e as { path?: string }).path ?? '';
  const errno = (e as { errnoName?: string }).errnoName ?? '';
  const what = hint ? hint(path, errno) : `${e.message}: the container could not be set up`;
  return new ContainerSpawnError('sys', `container "${id}": ${what}`, { cause: e });
}
