/**
 * The supervisor's end of the control socket (see protocol.ts): a unix socket, mode 0600, in the state root.
 * Each connection: greeting, one request, one reply, close.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { callSupervisor } from './call.js';
import { ClaimedSocket, fileAt } from './listen-socket.js';
import { PROTOCOL_VERSION, SupervisorError, toWire, type Hello, type Reply, type Request } from './protocol.js';

/** Requests are a command's options: anything near this size is not one. */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export type RequestHandler = (req: Request) => Promise<Reply>;

export class ControlServer {
  private readonly sockets = new Set<Socket>();

  private socket: ClaimedSocket | undefined;

  private constructor(
    readonly path: string,
    private readonly server: Server,
  ) {}

  /**
   * Listens on `path`. A socket file left by a supervisor that died is replaced; one that still answers is not.
   * @throws SupervisorError `exists` when another supervisor serves this root.
   */
  static async listen(root: string, path: string, handle: RequestHandler, log: Logger): Promise<ControlServer> {
    const seen = fileAt(path);
    if (seen !== undefined) {
      const other = await callSupervisor(root, 'ping', []).catch(() => undefined);
      if (other) {
        throw new SupervisorError('exists', `a supervisor (pid ${other.hello.pid}) already serves ${root}: stop it first, or use another --root`);
      }
    }
    const server = createServer((socket) => control.accept(socket, handle, log));
    const control = new ControlServer(path, server);
    // Another supervisor that started with this one and claimed the path first.
    const exists = () => new SupervisorError('exists', `another supervisor already serves ${root}: stop it first, or use another --root`);
    control.socket = await ClaimedSocket.listen(server, path, seen, exists);
    return control;
  }

  /** Stops accepting, ends open connections and removes the socket file (if it is still ours). */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.socket?.remove();
  }

  private accept(socket: Socket, handle: RequestHandler, log: Logger): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined); // a client that went away mid-reply is not our problem
    const hello: Hello = { runts: 'supervisor', version: PROTOCOL_VERSION, pid: process.pid };
    socket.write(JSON.stringify(hello) + '\n');
    let buffer = '';
    let taken = false;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      if (taken) return;
      buffer += chunk;
      if (buffer.length > MAX_REQUEST_BYTES) return void socket.destroy();
      const nl = buffer.indexOf('\n');
      if (nl < 0) return;
      taken = true;
      let req: Request;
      try {
        req = JSON.parse(buffer.slice(0, nl)) as Request;
        if (req.version !== PROTOCOL_VERSION || typeof req.op !== 'string' || !Array.isArray(req.args)) throw new Error('malformed request');
      } catch (e) {
        socket.end(JSON.stringify({ ok: false, error: toWire(new SupervisorError('bad_config', `bad request: ${(e as Error).message}`)) }) + '\n');
        return;
      }
      handle(req)
        .catch((e): Reply => {
          log.debug({ op: req.op, err: (e as Error).message }, 'forwarded call failed');
          return { ok: false, error: toWire(e) };
        })
        .then((reply) => socket.end(JSON.stringify(reply) + '\n'));
    });
  }
}
