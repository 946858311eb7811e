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
 * Served here: the commands in SERVED. create, run and exec are among them: their processes must be the caller's
 * descendants (containerd's shim and conmon are subreapers that wait for them), so the host makes each spawn plan and
 * the front runs it (front-caller.ts). Anything else — events, spec, help, a relative path, a terminal the caller
 * would relay... (fallbackReason) — is answered "fallback" and the front runs it through Node, as without a host.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { chmodSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { commandRunner, enableCallerContexts, runInCaller, type CallerContext } from '../cli-io.js';
import type { RuntimeApi } from '../operations/types.js';
import type { CommandCaller } from '../operations/context.js';
import { frontReceive, nativePort } from '../native/index.js';
import { closeQuietly, FrontCaller } from './front-caller.js';
import { SupervisorError } from './protocol.js';
import { ClaimedSocket, fileAt } from './listen-socket.js';
import { socketAnswers } from './call.js';

/** The Runtime one command runs on (Runtime.forCommand), with its caller when the front spawns for it. */
export type CommandRuntime = (log: Logger, caller?: CommandCaller) => RuntimeApi;

/** RUNTS_FRONT_VERSION of src/front/front-wire.h. */
export const FRONT_VERSION = 2;
/** The directory (0700) and the socket (0600) inside the state root. */
export const FRONT_DIR = 'host';
export const FRONT_SOCKET = 'front.sock';
/** How long a connected front may take to send its request (it sends it at once; this bounds a stuck peer). */
const RECEIVE_TIMEOUT_MS = 2000;

/**
 * The commands a warm host runs for the front. `start` only lets the blocked init go on (its hooks have their own env
 * and cwd, and their stdio is piped either way); create, run and exec spawn through the front (front-caller.ts).
 */
const SERVED = new Set(['state', 'list', 'ps-all', 'start', 'kill', 'pause', 'resume', 'delete', 'ps', 'history', 'features', 'update', 'create', 'run', 'exec']);

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
    private readonly socket: ClaimedSocket,
    private readonly build: string,
  ) {}

  /**
   * Serves the front on `<root>/host/front.sock`.
   * @throws SupervisorError `exists` when another host answers on it.
   */
  static async listen(root: string, forCommand: CommandRuntime, log: Logger, opts: FrontHostOptions = {}): Promise<FrontHost> {
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
    const exists = () => new SupervisorError('exists', `a runts host already serves ${root} on ${path}: stop it first, or use another --root`);
    const seen = fileAt(path);
    if (await socketAnswers(path)) throw exists();
    chmodSync(dir, 0o700);
    enableCallerContexts(new AsyncLocalStorage<CallerContext>());
    // Accepted paused: libuv must never read these sockets (it would drop the fds they carry).
    const server = createServer({ pauseOnConnect: true });
    const socket = await ClaimedSocket.listen(server, path, seen, exists);
    const host = new FrontHost(path, server, socket, buildStamp());
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
    return this.socket.lost();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.socket.remove();
  }

  private async serve(socket: Socket, forCommand: CommandRuntime, log: Logger, version: number): Promise<void> {
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
      // A caller in other namespaces sees other mounts (a cgroupfs of its own, a bundle path), pids and networks than
      // this host: what the host would do for it is not what the command would do in the caller.
      const elsewhere = otherNamespace(req.pid);
      if (elsewhere) return void socket.end(`fallback the caller is in another ${elsewhere} namespace\n`);
      if (fds.length !== 3) throw new Error(`a request with ${fds.length} fds (the caller's stdio is 3)`);
      const call = parseBody(req.body);
      const main = commandRunner();
      // An embedding program's resident host has no command line to run: the front runs it through Node.
      const line = parseCommandLine(call.argv);
      const why = main ? fallbackReason(line, call.cwd) : 'this host has no command line';
      if (!main || why) return void socket.end(`fallback ${why}\n`);
      // The front's spawns and waits: its process is the caller, creator of what this command creates.
      const front = new FrontCaller(socket, fd, req.version, line.word === 'run' && !line.options.has('detach'));
      const caller: CommandCaller = {
        pid: req.pid,
        // Read when create records its creator, not on the path of every command served.
        get startTime() {
          return nativePort().procStat(req.pid)?.startTime ?? null;
        },
        port: (base) => front.port(base),
      };
      const ctx: CallerContext = {
        fds: [fds[0]!, fds[1]!, fds[2]!],
        env: call.env,
        cwd: call.cwd,
        exitCode: 0,
        opened: [],
        runtime: (commandLog) => forCommand(commandLog, caller),
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

/** The namespaces whose difference changes what a command does, as /proc/<pid>/ns names them. */
const CALLER_NAMESPACES = ['mnt', 'pid', 'net', 'cgroup', 'user'] as const;

/** This process's namespaces (it never changes them), read on the first request; a kind the kernel lacks is left out. */
let ownNamespaces: [ns: string, link: string][] | undefined;

/** The first namespace `pid` is not in with this process (or that cannot be compared), undefined when none. */
export function otherNamespace(pid: number): string | undefined {
  ownNamespaces ??= CALLER_NAMESPACES.flatMap((ns) => {
    try {
      return [[ns, readlinkSync(`/proc/self/ns/${ns}`)] as [string, string]];
    } catch {
      return [];
    }
  });
  for (const [ns, ours] of ownNamespaces) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/${ns}`) !== ours) return ns;
    } catch {
      return ns;
    }
  }
  return undefined;
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

/** The global options that take a value (src/cli-main.ts). */
const GLOBAL_VALUES = new Set(['--root', '--log', '--log-format', '--criu', '--rootless']);

/**
 * The options of the served commands, enough to tell whether a host may run them: for each, the options taking a
 * value (long name → the key it is read by) and the flags. An option not listed sends the command back to Node.
 */
const COMMAND_OPTIONS: Record<string, { values: Record<string, string>; flags: Record<string, string> }> = {
  create: {
    values: { '-b': 'bundle', '--bundle': 'bundle', '--pid-file': 'pid-file', '--console-socket': 'console-socket', '--preserve-fds': 'preserve-fds' },
    flags: { '--no-pivot': 'no-pivot', '--no-new-keyring': 'no-new-keyring' },
  },
  run: {
    values: { '-b': 'bundle', '--bundle': 'bundle', '--pid-file': 'pid-file', '--console-socket': 'console-socket', '--preserve-fds': 'preserve-fds' },
    flags: { '-d': 'detach', '--detach': 'detach', '--keep': 'keep', '--no-pivot': 'no-pivot', '--no-new-keyring': 'no-new-keyring' },
  },
  exec: {
    values: {
      '-p': 'process', '--process': 'process', '--pid-file': 'pid-file', '--console-socket': 'console-socket', '--cwd': 'cwd',
      '-e': 'env', '--env': 'env', '-u': 'user', '--user': 'user', '-g': 'additional-gids', '--additional-gids': 'additional-gids',
      '-c': 'cap', '--cap': 'cap', '--cgroup': 'cgroup', '--preserve-fds': 'preserve-fds',
    },
    flags: { '-d': 'detach', '--detach': 'detach', '-t': 'tty', '--tty': 'tty', '--no-new-privs': 'no-new-privs', '--ignore-paused': 'ignore-paused' },
  },
};

/** A command line as far as the host needs to read it. */
export interface CommandLine {
  /** The global options given (--root, --log, ... → value; -h, --version → ''). */
  globals: Map<string, string>;
  /** The command word, or undefined. */
  word: string | undefined;
  /** What follows the command word. */
  args: string[];
  /** create/run/exec: their options (key → last value; flags → 'true'); `unknown` names one not in COMMAND_OPTIONS. */
  options: Map<string, string>;
  unknown?: string;
}

export function parseCommandLine(argv: string[]): CommandLine {
  const globals = new Map<string, string>();
  let i = 2;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) break;
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    globals.set(name, eq > 0 ? a.slice(eq + 1) : GLOBAL_VALUES.has(a) ? (argv[++i] ?? '') : '');
  }
  const word = argv[i];
  const line: CommandLine = { globals, word, args: argv.slice(i + 1), options: new Map() };
  const table = word === undefined ? undefined : COMMAND_OPTIONS[word];
  if (!table) return line;
  let positionals = 0;
  const { args } = line;
  for (let j = 0; j < args.length; j++) {
    const a = args[j]!;
    // exec passes everything after its first argument (the container) through to the process (commander's
    // passThroughOptions); `--` ends the options of any command.
    if (a === '--' || (word === 'exec' && positionals > 0)) break;
    if (!a.startsWith('-') || a === '-') {
      positionals++;
      continue;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a.startsWith('--') ? a : a.slice(0, 2);
    const key = table.values[name];
    if (key !== undefined) {
      const inline = eq > 0 ? a.slice(eq + 1) : !a.startsWith('--') && a.length > 2 ? a.slice(2) : undefined;
      line.options.set(key, inline ?? args[++j] ?? '');
      continue;
    }
    // Flags, a cluster of short ones too (-dt).
    const names = a.startsWith('--') ? [a] : [...a.slice(1)].map((c) => `-${c}`);
    for (const n of names) {
      const flag = table.flags[n];
      if (flag === undefined) {
        line.unknown ??= n;
        break;
      }
      line.options.set(flag, 'true');
    }
  }
  return line;
}

/** Why this command line goes back to the front (undefined when the host runs it). `cwd` is the caller's. */
export function fallbackReason(line: CommandLine, cwd = '/'): string | undefined {
  for (const [name, value] of line.globals) {
    // Relative paths are the caller's cwd's: resolving them here would change what an error message shows.
    if ((name === '--root' || name === '--log') && !isAbsolute(value)) return `${name} is relative`;
    if (name === '-h' || name === '--help' || name === '-v' || name === '--version') return 'help';
  }
  const { word, args } = line;
  if (word === undefined || !SERVED.has(word)) return `${word ?? 'no command'} is run by the caller`;
  if (COMMAND_OPTIONS[word]) return spawnFallbackReason(line, cwd);
  for (let j = 0; j < args.length; j++) {
    const a = args[j]!;
    const file = a === '-r' || a === '--resources' ? args[j + 1] : a.startsWith('--resources=') ? a.slice(12) : a.startsWith('-r') && a.length > 2 ? a.slice(2) : undefined;
    if (file !== undefined && file !== '-' && !isAbsolute(file)) return 'a relative --resources file';
  }
  return undefined;
}

/** create, run, exec: what only the caller's own process can do. */
function spawnFallbackReason(line: CommandLine, cwd: string): string | undefined {
  const o = line.options;
  if (line.unknown) return `${line.unknown} is read by the caller`;
  // The bundle is the caller's cwd by default: a path relative to it stays the caller's to resolve (and to print).
  if (line.word !== 'exec' && !isAbsolute(o.get('bundle') ?? '.')) return 'a relative bundle';
  for (const key of ['pid-file', 'console-socket', 'process']) {
    const value = o.get(key);
    if (value !== undefined && !isAbsolute(value)) return `a relative --${key}`;
  }
  // Into a paused container the spawn waits for a resume, for as long as that takes.
  if (o.has('ignore-paused')) return 'an exec that may wait for a resume';
  // A foreground process with a terminal and no console socket: the caller relays a new pty to its own stdio.
  if (!o.has('detach') && !o.has('console-socket') && wantsTerminal(line, cwd)) return 'a terminal the caller relays';
  return undefined;
}

function wantsTerminal(line: CommandLine, cwd: string): boolean {
  const o = line.options;
  if (line.word === 'exec') {
    if (o.has('tty')) return true;
    const file = o.get('process');
    return file !== undefined && terminalIn(file, (j) => j);
  }
  return terminalIn(join(resolve(cwd, o.get('bundle') ?? '.'), 'config.json'), (j) => (j as { process?: unknown }).process);
}

/** Whether the JSON file's process object asks for a terminal; an unreadable file is the command's to report. */
function terminalIn(file: string, processOf: (json: unknown) => unknown): boolean {
  try {
    const proc = processOf(JSON.parse(readFileSync(file, 'utf8'))) as { terminal?: unknown } | undefined;
    return proc?.terminal === true;
  } catch {
    return false;
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
