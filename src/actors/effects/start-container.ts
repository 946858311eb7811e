import { unlinkSync } from 'node:fs';
import { stateError } from '../../machines/container.js';
import { NativeError } from '../../native/port.js';
import type { ContainerEnv, LiveFacts } from '../ports.js';
import { execFifoPath } from '../paths.js';
import { hookState } from './oci-state.js';
import { crashPoint } from '../../debug/crash.js';
import { compileSeccomp } from '../../linux/seccomp.js';
import { rootlessUserNs } from '../../linux/rootless.js';

/**
 * Lets the blocked init run the user program: startContainer hooks (in the container), one byte into the exec
 * fifo, then poststart hooks — whose failure is only a warning (OCI).
 */
export async function startContainer(facts: Readonly<LiveFacts>, env: ContainerEnv): Promise<void> {
  const { hooks } = env.ports;
  const startHooks = facts.spec.hooks?.startContainer;
  // Under the container's seccomp filter, as runc runs them (from its init, after the filter is in).
  const profile = startHooks?.length ? facts.spec.linux?.seccomp : undefined;
  const seccomp = profile ? compileSeccomp(profile, env.ports.sys) : undefined;
  await hooks.run('startContainer', startHooks, hookState(facts, 'created'), { nsenterPid: facts.initPid, nsenterUser: rootlessUserNs(facts), seccomp });

  const fifo = execFifoPath(env.root, facts.id);
  try {
    env.ports.sys.writeExecFifo(fifo);
  } catch (e) {
    // Only the open tells about the init; a failed write is reported as it is.
    if (!(e instanceof NativeError) || e.syscall !== 'open') throw e;
    const code = e.errnoName;
    const why = code === 'ENXIO' ? 'its init process is gone' : code === 'ENOENT' ? 'it was already started' : String(e);
    throw stateError(`cannot start container "${facts.id}": ${why}`, { cause: e });
  }
  crashPoint('start.after-signal');
  unlinkSync(fifo);
  await hooks.runBestEffort('poststart', facts.spec.hooks?.poststart, hookState(facts, 'running'), (msg) =>
    env.log.warn({ id: facts.id }, msg),
  );
}
