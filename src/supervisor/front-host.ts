/**
 * The warm host's end of the native front (bin/runts, src/front/front.c): a unix socket at
 * `<root>/host/front.sock` (0600, in a 0700 directory) where each connection carries one command line with the
 * caller's cwd, environment and fds 0-2 (src/front/front-wire.h). The host runs it as the CLI would — the same
 * commander program (src/cli-main.ts) — with the caller's fds as stdout/stderr/stdin and an exit status of its own
 * (src/cli-io.ts), so what the caller sees is byte for byte what `node bin/runts.cjs` would have printed, then
 * answers "exit <status>". The front exits with it.
 *
 * Why a socket of its own beside supervisor.sock: Node's streams read a unix socket with read(2), which drops the
 * SCM_RIGHTS fds a message carries; these connections are accepted paused and read by the addon (frontReceive).
 *
 * Served here: the commands that spawn nothing in the caller's place (SERVED). Anything else — create, run, exec
 * (their processes must be the caller's descendants: containerd's shim and conmon wait for them), events,
 * spec, help for another command... — is answered "fallback" and the front runs it through Node, as without a host.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { chmodSync, closeSync, lstatSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { commandRunner, enableCallerContexts, runInCaller, type CallerContext } from '../cli-io.js';
import type { RuntimeApi } from '../operations/types.js';
import { SupervisorError } from './protocol.js';
import { listenOwnerOnly } from './listen-socket.js';
import { socketAnswers } from './call.js';

/** RUNTS_FRONT_VERSION of src/front/front-wire.h. */
export const FRONT_VERSION = 1;
/** The directory (0700) and the socket (0600) inside the state root. */
export const FRONT_DIR = 'host';
export const FRONT_SOCKET = 'front.sock';
/** How long a connected front may take to send its request (it sends it at once; this bounds a stuck peer). */
const RECEIVE_TIMEOUT_MS = 2000;

/**
 * The commands a warm host runs for the front: they start no process the caller must be the ancestor of (`start`
 * only lets the blocked init go on; its hooks have their own env and cwd, and their stdio is piped either way).
 */
const SERVED = new Set(['state', 'list', 'ps-all', 'start', 'kill', 'pause', 'resume', 'delete', 'ps', 'history', 'features', 'update']);

export function frontSocketPath(root: string): string {
  return join(root, FRONT_DIR, FRONT_SOCKET);
}

export interface FrontHostOptions {
  /** The protocol version this host speaks (tests play an older host with another one). */
  version?: number;
}

export class FrontHost {
  private readonly sockets = new Set<Socket>();
  private active = 0;
  private lastUsed = Date.now();
  private stale: string | undefined;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly server: Server,
    private readonly ino: number,
    private readonly build: string,
  ) {}

  /**
   * Serves the front on `<root>/host/front.sock`.
   * @throws SupervisorError `exists` when another host answers on it.
   */
  static async listen(root: string, forCommand: (log: Logger) => RuntimeApi, log: Logger, opts: FrontHostOptions = {}): Promise<FrontHost> {
    const version = opts.version ?? FRONT_VERSION;
    const dir = join(root, FRONT_DIR);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Only this uid may reach the socket: the directory is ours and 0700 whatever made it (SO_PEERCRED is checked
    // on each connection too).
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== process.geteuid?.()) {
      throw new SupervisorError('bad_config', `${dir} is not a directory of this user: remove it, it is runts' own`);
    }
    const path = frontSocketPath(root);
    if (await socketAnswers(path)) throw new SupervisorError('exists', `a runts host already serves ${root} on ${path}: stop it first, or use another --root`);
    chmodSync(dir, 0o700);
    try {
      unlinkSync(path); // left by a host that died
    } catch {
      // none
    }
    enableCallerContexts(new AsyncLocalStorage<CallerContext>());
    // Accepted paused: libuv must never read these sockets (it would drop the fds they carry).
    const server = createServer({ pauseOnConnect: true });
    await listenOwnerOnly(server, path);
    const host = new FrontHost(path, server, statSync(path).ino, buildStamp());
    server.on('connection', (socket) => void host.serve(socket, forCommand, log, version));
    return host;
  }

  /**
   * Resolves once nothing came for `idleMs` and nothing runs, or when this host should give way: its socket was
   * removed or replaced, or a front of another version asked for a restart.
   */
  whenIdle(idleMs: number): Promise<string> {
    return new Promise((resolve) => {
      const timer = setInterval(
        () => {
          const why = this.giveWay() ?? (this.active === 0 && Date.now() - this.lastUsed >= idleMs ? `idle for ${idleMs} ms` : undefined);
          if (why === undefined) return;
          clearInterval(timer);
          resolve(why);
        },
        Math.max(50, Math.min(1000, idleMs / 4)),
      );
      timer.unref();
    });
  }

  private giveWay(): string | undefined {
    if (this.closed) return 'closed';
    if (this.stale && this.active === 0) return this.stale;
    try {
      if (statSync(this.path).ino !== this.ino) return 'its socket was replaced';
    } catch {
      return 'its socket was removed';
    }
    return undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      if (statSync(this.path).ino === this.ino) unlinkSync(this.path);
    } catch {
      // already gone
    }
  }

  private async serve(socket: Socket, forCommand: (log: Logger) => RuntimeApi, log: Logger, version: number): Promise<void> {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    this.active++;
    this.lastUsed = Date.now();
    socket.on('error', () => undefined); // a front that went away: nothing to answer
    let fds: number[] = [];
    // Once the command has started, a failure must not make the front run it again through Node (a kill or a delete
    // would happen twice): it is this command's failure.
    let started = false;
    try {
      const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
      if (typeof fd !== 'number' || fd < 0) throw new Error('no fd for the connection');
      const { frontReceive } = await import('../native/index.js');
      const req = await frontReceive(fd, RECEIVE_TIMEOUT_MS);
      fds = req.fds;
      if (req.uid !== process.geteuid?.()) {
        log.warn({ uid: req.uid, pid: req.pid }, 'front connection of another user refused');
        return void socket.end(`refused uid ${req.uid} is not this host's\n`);
      }
      if (req.version !== version) {
        // A front of another build: it runs the command itself; this host leaves once idle, so the next command
        // starts one of the front's version.
        this.stale = `a front of protocol ${req.version} asked for a restart`;
        log.info({ version: req.version, ours: version }, 'front of another version: restart me');
        return void socket.end(`restart this host speaks version ${version}\n`);
      }
      if (buildStamp() !== this.build) {
        // runts was rebuilt since this host started: its code is not what the front would run through Node.
        this.stale = 'runts was rebuilt';
        log.info('runts was rebuilt: restart me');
        return void socket.end('restart runts was rebuilt since this host started\n');
      }
      const call = parseBody(req.body);
      const main = commandRunner();
      // An embedding program's resident host has no command line to run: the front runs it through Node.
      const why = main ? fallbackReason(call.argv) : 'this host has no command line';
      if (!main || why) return void socket.end(`fallback ${why}\n`);
      const ctx: CallerContext = {
        fds: [fds[0]!, fds[1]!, fds[2]!],
        env: call.env,
        cwd: call.cwd,
        exitCode: 0,
        opened: [],
        runtime: forCommand,
      };
      started = true;
      try {
        await runInCaller(ctx, () => main(call.argv, true));
      } finally {
        for (const f of ctx.opened) closeQuietly(f);
      }
      closeAll(fds);
      socket.end(`exit ${ctx.exitCode}\n`);
    } catch (e) {
      if (started) {
        log.warn({ err: (e as Error).message }, 'front command failed after it started');
        socket.end('exit 1\n');
        return;
      }
      // Nothing was run (a malformed or slow request): the front falls back, as with no host.
      log.warn({ err: (e as Error).message }, 'front request failed');
      socket.end(`fallback ${(e as Error).message.split('\n')[0]}\n`);
    } finally {
      closeAll(fds);
      this.active--;
      this.lastUsed = Date.now();
    }
  }
}

/** cwd, argv and environment of a request body (NUL-terminated strings, see front-wire.h). */
export function parseBody(body: Buffer): { cwd: string; argv: string[]; env: Record<string, string> } {
  const parts = body.toString('utf8').split('\0');
  if (parts.at(-1) !== '') throw new Error('request body not NUL-terminated');
  parts.pop();
  const [cwd, argcText, ...rest] = parts;
  const argc = Number(argcText);
  if (cwd === undefined || !Number.isInteger(argc) || argc < 1 || argc > rest.length) throw new Error('malformed request body');
  const env: Record<string, string> = {};
  for (const kv of rest.slice(argc)) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  // argv[0] is the front's; the program reads from argv[2] as in a Node process (node, script, ...args).
  return { cwd, argv: ['node', 'runts', ...rest.slice(1, argc)], env };
}

/** Why this command line goes back to the front (undefined when the host runs it). */
export function fallbackReason(argv: string[]): string | undefined {
  const globals = new Set(['--root', '--log', '--log-format', '--criu', '--rootless']);
  let i = 2;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) break;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const value = eq > 0 ? a.slice(eq + 1) : globals.has(a) ? argv[++i] : undefined;
    // Relative paths are the caller's cwd's: resolving them here would change what an error message shows.
    if ((name === '--root' || name === '--log') && value !== undefined && !isAbsolute(value)) return `${name} is relative`;
    if (name === '-h' || name === '--help' || name === '-v' || name === '--version') return 'help';
  }
  const word = argv[i];
  if (word === undefined || !SERVED.has(word)) return `${word ?? 'no command'} is run by the caller`;
  for (let j = i + 1; j < argv.length; j++) {
    const a = argv[j]!;
    const file = a === '-r' || a === '--resources' ? argv[j + 1] : a.startsWith('--resources=') ? a.slice(12) : a.startsWith('-r') && a.length > 2 ? a.slice(2) : undefined;
    if (file !== undefined && file !== '-' && !isAbsolute(file)) return 'a relative --resources file';
  }
  return undefined;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

function closeAll(fds: number[]): void {
  for (const f of fds) closeQuietly(f);
  fds.length = 0;
}

/** This module's file as built (inode and mtime): it changes with every build, so a host can tell it is stale. */
function buildStamp(): string {
  try {
    const st = statSync(fileURLToPath(import.meta.url));
    return `${st.ino}:${st.mtimeMs}`;
  } catch {
    return 'unknown';
  }
}
