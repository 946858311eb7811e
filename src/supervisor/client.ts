/**
 * The CLI side of forwarding: when a supervisor answers on `<root>/supervisor.sock`, a command's Runtime calls
 * go to it (the supervisor runs the same call on its own Runtime and sends back the result or the error, code and
 * message intact); otherwise — no socket, nobody answering, or the supervisor declines because the call needs
 * this process's own fds — the command runs here as a transient host, exactly as without a supervisor.
 */
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { CreateOptions, ExecOptions, RunOptions, Runtime, RuntimeOptions } from '../runtime.js';
import {
  PROTOCOL_VERSION,
  SupervisorError,
  fromWire,
  socketPath,
  stdioIdentity,
  type ForwardedOp,
  type Hello,
  type Reply,
  type Request,
} from './protocol.js';

/** How long a supervisor may take to greet before the CLI gives up on it and runs the command itself. */
const GREETING_TIMEOUT_MS = 2000;

/** Set to 1 to never forward (run every command as a transient host). */
export const NO_SUPERVISOR_ENV = 'RUNTS_NO_SUPERVISOR';

type Outcome<T> = { forwarded: true; value: T } | { forwarded: false; why: string };

/**
 * The Runtime a CLI command uses: the real one when no supervisor socket exists (no cost), else a stand-in that
 * forwards what it can and opens a local Runtime lazily for the rest.
 */
export async function openRuntime(opts: RuntimeOptions & { root: string; log: Logger }): Promise<Runtime> {
  const sock = socketPath(opts.root);
  if (process.env[NO_SUPERVISOR_ENV] === '1' || !existsSync(sock)) {
    const { Runtime } = await import('../runtime.js');
    return Runtime.open(opts);
  }
  return forwardingRuntime(opts);
}

/** One request over the control socket; `undefined` when no supervisor answers (nothing was sent). */
export async function callSupervisor(root: string, op: ForwardedOp, args: unknown[]): Promise<{ hello: Hello; reply: Reply } | undefined> {
  const socket = await connect(socketPath(root));
  if (!socket) return undefined;
  const lines = lineReader(socket);
  try {
    const greeting = await withTimeout(lines.next(), GREETING_TIMEOUT_MS);
    const hello = parseHello(greeting);
    if (!hello) return undefined; // silent, or not a runts supervisor of this protocol version
    const request: Request = { version: PROTOCOL_VERSION, op, args, stdio: stdioIdentity() };
    socket.write(JSON.stringify(request) + '\n');
    const answer = await lines.next();
    if (answer === undefined) {
      throw new SupervisorError(
        'sys',
        `the supervisor (pid ${hello.pid}) closed the connection before answering ${op}: check its log; the ${op} may or may not have happened`,
      );
    }
    return { hello, reply: JSON.parse(answer) as Reply };
  } finally {
    socket.destroy();
  }
}

function parseHello(line: string | undefined): Hello | undefined {
  try {
    const hello = JSON.parse(line ?? '') as Hello;
    return hello.runts === 'supervisor' && hello.version === PROTOCOL_VERSION && Number.isInteger(hello.pid) ? hello : undefined;
  } catch {
    return undefined;
  }
}

function connect(path: string): Promise<Socket | undefined> {
  return new Promise((done) => {
    const socket = process.getBuiltinModule('node:net').createConnection(path);
    const timer = setTimeout(() => {
      socket.destroy();
      done(undefined);
    }, GREETING_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.on('error', () => undefined); // surfaces as a closed stream in lineReader
      done(socket);
    });
    // ENOENT, ECONNREFUSED (a stale socket of a supervisor that died), EACCES: nobody to forward to.
    socket.once('error', () => {
      clearTimeout(timer);
      done(undefined);
    });
  });
}

/** Reads newline-terminated lines; `next()` resolves undefined once the peer closed. */
function lineReader(socket: Socket): { next(): Promise<string | undefined> } {
  let buffer = '';
  let ended = false;
  const waiting: ((line: string | undefined) => void)[] = [];
  const lines: string[] = [];
  const flush = () => {
    while (waiting.length && (lines.length || ended)) waiting.shift()!(lines.shift());
  };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      lines.push(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
    flush();
  });
  socket.on('close', () => {
    ended = true;
    flush();
  });
  return { next: () => new Promise((r) => (waiting.push(r), flush())) };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]).finally(() => clearTimeout(timer));
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

function forwardingRuntime(opts: RuntimeOptions & { root: string; log: Logger }): Runtime {
  const { root, log } = opts;
  let local: Promise<Runtime> | undefined;
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
  const via = <K extends keyof Runtime>(op: ForwardedOp, method: K, wire: unknown[], localArgs: unknown[] = wire) =>
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
    events: (o?: Parameters<Runtime['events']>[0]) => ({
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
      return (...args: unknown[]) => openLocal().then((rt) => (rt[prop as keyof Runtime] as (...a: unknown[]) => unknown)(...args));
    },
  }) as unknown as Runtime;
}
