/**
 * The CLI side of forwarding: when a supervisor answers on `<root>/supervisor.sock`, a command's Runtime calls
 * go to it (the supervisor runs the same call on its own Runtime and sends back the result or the error, code and
 * message intact); otherwise — no socket, nobody answering, or the supervisor declines because the call needs
 * this process's own fds — the command runs here as a transient host, exactly as without a supervisor.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { RuntimeOptions } from '../runtime.js';
import type { CreateOptions, ExecOptions, RunOptions, RuntimeApi } from '../operations/types.js';
import { callSupervisor } from './call.js';
import { SupervisorError, fromWire, socketPath, type ForwardedOp } from './protocol.js';

/** Set to 1 to never forward (run every command as a transient host). */
export const NO_SUPERVISOR_ENV = 'RUNTS_NO_SUPERVISOR';

type Outcome<T> = { forwarded: true; value: T } | { forwarded: false; why: string };

/**
 * The Runtime a CLI command uses: the real one when no supervisor socket exists (no cost), else a stand-in that
 * forwards what it can and opens a local Runtime lazily for the rest.
 */
export async function openRuntime(opts: RuntimeOptions & { root: string; log: Logger }): Promise<RuntimeApi> {
  const sock = socketPath(opts.root);
  if (process.env[NO_SUPERVISOR_ENV] === '1' || !existsSync(sock)) {
    const { Runtime } = await import('../runtime.js');
    return Runtime.open(opts);
  }
  return forwardingRuntime(opts);
}

/** Paths in options are the caller's: make them absolute before another process (with another cwd) uses them. */
function absolute<T extends { bundle?: string; pidFile?: string; consoleSocket?: string }>(o: T): T {
  return {
    ...o,
    ...(o.bundle !== undefined ? { bundle: resolve(o.bundle) } : {}),
    ...(o.pidFile ? { pidFile: resolve(o.pidFile) } : {}),
    ...(o.consoleSocket ? { consoleSocket: resolve(o.consoleSocket) } : {}),
  };
}

function forwardingRuntime(opts: RuntimeOptions & { root: string; log: Logger }): RuntimeApi {
  const { root, log } = opts;
  let local: Promise<RuntimeApi> | undefined;
  let gone = false; // no supervisor answered once: stop trying for the rest of this command
  const openLocal = () =>
    (local ??= import('../runtime.js').then(({ Runtime }) => Runtime.open(opts)));

  async function forward<T>(op: ForwardedOp, args: unknown[]): Promise<Outcome<T>> {
    if (gone) return { forwarded: false, why: 'no supervisor answers' };
    const answer = await callSupervisor(root, op, args);
    if (!answer) {
      gone = true;
      log.debug({ op }, 'no supervisor answers: running here');
      return { forwarded: false, why: 'no supervisor answers' };
    }
    const { hello, reply } = answer;
    if (reply.ok) {
      log.debug({ op, supervisor: hello.pid }, 'forwarded to the supervisor');
      return { forwarded: true, value: reply.result as T };
    }
    if ('decline' in reply) {
      log.debug({ op, supervisor: hello.pid, why: reply.decline }, 'the supervisor declined: running here');
      return { forwarded: false, why: reply.decline };
    }
    throw fromWire(reply.error);
  }

  /** Forwards `op`, or runs `method` on the local Runtime when it was not forwarded. */
  const via = <K extends keyof RuntimeApi>(op: ForwardedOp, method: K, wire: unknown[], localArgs: unknown[] = wire) =>
    forward(op, wire).then(async (o) => {
      if (o.forwarded) return o.value;
      const rt = await openLocal();
      return (rt[method] as (...a: unknown[]) => unknown)(...localArgs);
    });

  const stub = {
    root,
    log,
    create: (id: string, o: CreateOptions = {}) => via('create', 'create', [id, absolute({ ...o, bundle: o.bundle ?? '.' })], [id, o]),
    start: (id: string) => via('start', 'start', [id]),
    kill: (id: string, signal?: number, o?: { all?: boolean }) => via('kill', 'kill', [id, signal ?? 15, o ?? {}]),
    delete: (id: string, o?: { force?: boolean }) => via('delete', 'delete', [id, o ?? {}]),
    state: (id: string) => via('state', 'state', [id]),
    list: () => via('list', 'list', []),
    pause: (id: string) => via('pause', 'pause', [id]),
    resume: (id: string) => via('resume', 'resume', [id]),
    ps: (id: string) => via('ps', 'ps', [id]),
    stats: (id: string) => via('stats', 'stats', [id]),
    update: (id: string, r: unknown) => via('update', 'update', [id, r]),
    history: (id: string) => via('history', 'history', [id]),
    // A foreground run waits for its container here and passes signals on: only a detached one is forwarded.
    run: (id: string, o: RunOptions = {}) =>
      o.detach ? via('run', 'run', [id, absolute({ ...o, bundle: o.bundle ?? '.', forwardSignals: false })], [id, o]) : openLocal().then((rt) => rt.run(id, o)),
    // A foreground exec is waited for here (and its stdio is ours): only a detached one is forwarded.
    exec: async (id: string, o: ExecOptions) => {
      if (!o.detach) return (await openLocal()).exec(id, o);
      const out = await forward<{ pid: number }>('exec', [id, absolute(o)]);
      if (!out.forwarded) return (await openLocal()).exec(id, o);
      const pid = out.value.pid;
      return {
        pid,
        wait: () => Promise.reject(new SupervisorError('bad_state', `process ${pid} was started by the supervisor, which waits for it`)),
      };
    },
    // Files go through the container's gofer socket directly: nothing to forward.
    readFileStream: (id: string, path: string) => ({
      async *[Symbol.asyncIterator]() {
        yield* (await openLocal()).readFileStream(id, path);
      },
    }),
    events: (o?: Parameters<RuntimeApi['events']>[0]) => ({
      async *[Symbol.asyncIterator]() {
        yield* (await openLocal()).events(o);
      },
    }),
    close: async () => {
      if (local) await (await local).close();
    },
  };
  // Anything not listed (methods added to Runtime later) runs locally: always correct, never forwarded by accident.
  return new Proxy(stub, {
    get(target, prop, receiver) {
      if (prop in target) return Reflect.get(target, prop, receiver);
      if (typeof prop === 'symbol' || prop === 'then') return undefined;
      return (...args: unknown[]) => openLocal().then((rt) => (rt[prop as keyof RuntimeApi] as (...a: unknown[]) => unknown)(...args));
    },
  }) as unknown as RuntimeApi;
}
