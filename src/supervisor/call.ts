/**
 * One call over a root's control socket: connect, read the supervisor's greeting, send one request, read one reply.
 * Used by the CLI's forwarding (client.ts) and by a starting supervisor asking whether another one already serves.
 */
import type { Socket } from 'node:net';
import { PROTOCOL_VERSION, SupervisorError, socketPath, stdioIdentity, type ForwardedOp, type Hello, type Reply, type Request } from './protocol.js';

/** How long a supervisor may take to greet before the CLI gives up on it and runs the command itself. */
const GREETING_TIMEOUT_MS = 2000;

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

/** Whether something answers on the unix socket at `path`: a connect that succeeds (nothing is sent). No socket, or a
 * stale one left by a process that died, is no answer. */
export function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = process.getBuiltinModule('node:net').createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
