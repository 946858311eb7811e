/**
 * The resident host (`runts supervise`, or `runtime.serve()` in an embedding program). It keeps one Runtime open
 * and adds what a short-lived CLI process cannot do:
 * - it is a child subreaper and the parent of every container it creates, so it reaps their inits and records
 *   each exit status the moment it happens (see reaper.ts), as an `observed.exited` event on the container's chart;
 * - it watches the other containers of its root too (their status is unknown, their exit is not);
 * - it answers CLI commands forwarded over `<root>/supervisor.sock` by running the same Runtime call;
 * - optionally it serves the visualizer.
 * Both hosts share the LMDB store, so CLI processes that do not forward stay consistent with it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ContainerHost } from '../actors/host.js';
import { hasInit, statusOfStored } from '../machines/container.js';
import { resolveContainerId, type IdUse } from '../oci/id.js';
import type { Store } from '../persistence/store.js';
import type { CreateOptions, ExecOptions, RuntimeApi, RunOptions } from '../operations/types.js';
import { followFeed } from '../operations/events.js';
import { KeyedQueue } from './keyed-queue.js';
import { liveProcStat, PF_EXITING } from '../linux/proc.js';
import { resolveCgroupPath } from '../linux/cgroups/cgroup-path.js';
import { parentRecordsExit, recordExit, recordExits, type Exit } from '../actors/record-exit.js';
import { sameStdio, socketPath, stdioIdentity, type Reply, type Request, type StdioId } from './protocol.js';
import { Reaper, type Watch } from './reaper.js';
import { ControlServer } from './server.js';
import { FrontHost, type CommandRuntime } from './front-host.js';

/** Options of `Runtime.serve()`. */
export interface ServeOptions {
  /** Serve the control socket `<root>/supervisor.sock`, so CLI commands forward to this process (default true). */
  socket?: boolean;
  /** Also serve the visualizer here, e.g. "127.0.0.1:7433" (port 0 picks a free one). Loopback unless explicit. */
  listen?: string;
  /**
   * Reap orphans adopted as subreaper (default false; `runts supervise` sets it). Leave it off in a program that
   * calls `exec()` and waits for the process later: its zombie must stay until that `wait()`.
   */
  reapOrphans?: boolean;
  /**
   * Serve the native front on `<root>/host/front.sock` (front-host.ts; default true). When another host already
   * serves it, a resident with the control socket goes on without it; one serving only the front fails (`exists`).
   */
  front?: boolean;
}

/** What a resident host needs beyond the Runtime's public API (handed over by `Runtime.serve()`). */
export interface ResidentInternals {
  store: Store;
  host: ContainerHost;
  /** The Runtime a command handed over by the native front runs on (its logger; the same store). */
  forCommand: CommandRuntime;
}

/** How long the exit of another process's container waits for that process to record it (see exited()). */
const NON_CHILD_GRACE_MS = 1000;

/**
 * A running resident host. Get one with `await runtime.serve()`; `close()` it before closing the runtime.
 */
export class Resident {
  /** The control socket, when served. */
  socketPath: string | undefined;
  /** The visualizer's address (http://host:port/), when served. */
  url: string | undefined;

  private readonly queue = new KeyedQueue();
  private readonly reaper: Reaper;
  private readonly feed = new AbortController();
  private readonly ownStdio: (StdioId | null)[] = stdioIdentity();
  private control: ControlServer | undefined;
  /** The native front's socket, when served. */
  front: FrontHost | undefined;
  private ui: { url: string; close(): Promise<void> } | undefined;
  private following: Promise<void> | undefined;
  private readonly pendingExits = new Set<NodeJS.Timeout>();
  /** Exits reaped in the current pass, recorded together by recordReaped(). */
  private readonly reaped: Exit[] = [];
  private closed = false;

  private constructor(
    private readonly rt: RuntimeApi,
    private readonly internals: ResidentInternals,
    private readonly log: Logger,
    reapOrphans: boolean,
  ) {
    this.reaper = new Reaper(internals.host.env.ports.sys, (w, status) => this.exited(w, status), log, reapOrphans);
  }

  static async start(rt: RuntimeApi, internals: ResidentInternals, opts: ServeOptions = {}): Promise<Resident> {
    const r = new Resident(rt, internals, rt.log, opts.reapOrphans === true);
    try {
      // Before anything is spawned: orphans of our containers (and inits of helpers that exit) come to us.
      internals.host.env.ports.sys.setChildSubreaper(true);
      r.reaper.start();
      // First, so a second supervisor of the root is refused before it starts watching anything.
      if (opts.socket !== false) {
        const path = socketPath(rt.root);
        r.control = await ControlServer.listen(rt.root, path, (req) => r.handle(req), r.log);
        r.socketPath = path;
      }
      if (opts.front !== false) {
        try {
          r.front = await FrontHost.listen(rt.root, internals.forCommand, r.log, { version: frontVersionOverride() });
        } catch (e) {
          if (opts.socket === false || (e as { code?: string }).code !== 'exists') throw e;
          r.log.warn({ err: (e as Error).message }, 'not serving the front: another host does');
        }
      }
      for (const id of internals.store.ids()) r.watchContainer(id);
      r.following = r.follow();
      if (opts.listen !== undefined) {
        const { serveUi } = await import('../ui/server.js');
        r.ui = await serveUi(rt, { listen: opts.listen, log: r.log });
        r.url = r.ui.url;
      }
    } catch (e) {
      await r.close();
      throw e;
    }
    r.log.info({ root: rt.root, socket: r.socketPath, ui: r.url }, 'resident host ready');
    return r;
  }

  /** Stops serving, lets queued operations finish, stops watching. Containers keep running. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.control?.close();
    await this.front?.close();
    await this.ui?.close();
    this.feed.abort();
    await this.following;
    for (const t of this.pendingExits) clearTimeout(t);
    await this.queue.drain();
    this.reaper.close();
    try {
      this.internals.host.env.ports.sys.setChildSubreaper(false);
    } catch {
      // the addon is gone: nothing to undo
    }
  }

  /** Pids of the processes being watched (diagnostics and tests). */
  watchedPids(): number[] {
    return this.reaper.pids();
  }

  /** Follows the feed: a container that became live through any process gets its init (and gofer) watched. */
  private async follow(): Promise<void> {
    try {
      for await (const ev of followFeed(this.internals.store, { signal: this.feed.signal })) {
        if (ev.type === 'transition' && hasInit(ev.status)) this.watchContainer(ev.id);
      }
    } catch (e) {
      if (!this.closed) this.log.warn({ err: (e as Error).message }, 'following the event feed failed: exits are seen at the next command');
    }
  }

  private watchContainer(id: string): void {
    const record = this.internals.store.get(id);
    if (!record || !hasInit(statusOfStored(record.snapshot))) return;
    const { facts } = record;
    if (facts.initPid > 0 && !this.reaper.isWatching(facts.initPid)) {
      this.reaper.watch({ id, pid: facts.initPid, startTime: facts.initStartTime, kind: 'init' });
    }
    if (facts.goferPid > 0 && !goferExitRecorded(record.snapshot) && !this.reaper.isWatching(facts.goferPid)) {
      this.reaper.watch({ id, pid: facts.goferPid, startTime: null, kind: 'gofer' });
    }
  }

  private exited(w: Watch, exitStatus: number | null): void {
    if (w.kind === 'gofer') {
      void this.queue.run(w.id, () => this.recordGoferExit(w.id, exitStatus));
      return;
    }
    if (w.kind !== 'init') return; // execs only needed reaping
    if (w.child) {
      // The reaper reports every exit one SIGCHLD found before anything else runs: gather them and record them
      // together (one commit, one flush for the burst), after the current synchronous pass.
      if (this.reaped.length === 0) queueMicrotask(() => this.recordReaped());
      this.reaped.push({ id: w.id, pid: w.pid, exitStatus });
      return;
    }
    const record = this.internals.store.get(w.id);
    if (!record) return;
    // A foreground `runts run` is its container's parent and waits for it: it records the exit itself, with the
    // status we cannot have; writing first would only lose that status (and race its next write).
    if (parentRecordsExit(this.internals.host.env.ports.sys, record.facts, w.parentPid)) return;
    // Not ours: another runts process may be the one that stopped it (a transient delete) and is about to write the
    // record; our write would make its compare-and-set fail. Give it a moment, and record only if nobody did.
    const timer = setTimeout(() => {
      this.pendingExits.delete(timer);
      if (this.closed || this.internals.store.get(w.id)?.version !== record.version) return;
      void this.queue.run(w.id, () => this.recordExit(w.id, w.pid, exitStatus));
    }, NON_CHILD_GRACE_MS);
    this.pendingExits.add(timer);
  }

  /**
   * An unexpected gofer exit becomes `gofer.exited` on the container's chart (the transition log shows it). Policy:
   * the container keeps running; file calls then fail with a clear error. A gofer killed by delete finds its
   * container stopped or gone: nothing to record.
   */
  private async recordGoferExit(id: string, exitStatus: number | null): Promise<void> {
    const record = this.internals.store.get(id);
    if (!record || !hasInit(statusOfStored(record.snapshot)) || goferExitRecorded(record.snapshot)) return;
    // The init dead or in exit(): the container is stopping and its pid namespace took the gofer with it. That is the
    // container's exit, for the exit recorder, not a gofer that failed under a running container.
    const init = liveProcStat(this.internals.host.env.ports.sys, record.facts.initPid, record.facts.initStartTime);
    if (!init || (init.flags & PF_EXITING) !== 0) return;
    try {
      await this.internals.host.dispatch(record, { type: 'gofer.exited', exitStatus });
      this.log.debug({ id, exitStatus }, 'gofer exit recorded');
    } catch (e) {
      this.log.debug({ id, err: (e as Error).message }, 'gofer exit not recorded (the container changed meanwhile)');
    }
  }

  /** Records the exits gathered by exited() on their containers' charts, in one store transaction (record-exit.ts). */
  private recordReaped(): void {
    const exits = this.reaped.splice(0);
    void this.queue.runMany(
      exits.map((e) => e.id),
      async () => {
        try {
          const results = await recordExits(this.internals.host, this.internals.store, exits);
          results.forEach((r, i) => {
            const { id, pid, exitStatus } = exits[i]!;
            if (r instanceof Error) this.log.warn({ id, pid, err: r.message }, 'recording an exit failed');
            else if (r) this.log.debug({ id, pid, exitStatus }, 'exit recorded');
          });
        } catch (e) {
          this.log.warn({ ids: exits.map((x) => x.id), err: (e as Error).message }, 'recording exits failed');
        }
      },
    );
  }

  /** Records the exit on the container's chart (see record-exit.ts). */
  private async recordExit(id: string, pid: number, exitStatus: number | null): Promise<void> {
    try {
      if (await recordExit(this.internals.host, this.internals.store, id, pid, exitStatus)) this.log.debug({ id, pid, exitStatus }, 'exit recorded');
    } catch (e) {
      this.log.warn({ id, pid, err: (e as Error).message }, 'recording an exit failed');
    }
  }

  /** Runs one forwarded call. */
  private async handle(req: Request): Promise<Reply> {
    const rt = this.rt;
    const args = req.args as [string, ...unknown[]];
    const id = args[0];
    // The container's queue, keyed by its full ID under the rule the Runtime call applies (src/oci/id.ts): only
    // state, ps and stats may name it abbreviated.
    const key = (use: IdUse = 'change') => this.key(id, use);
    const ok = (result: unknown): Reply => ({ ok: true, result });
    switch (req.op) {
      case 'ping':
        return ok({ pid: process.pid, root: rt.root });
      case 'list':
        return ok(await rt.list());
      case 'create':
      case 'run': {
        const o = (args[1] ?? {}) as CreateOptions & RunOptions;
        if (req.op === 'run' && !o.detach) return { ok: false, decline: 'a foreground run waits for its container in the caller' };
        const config = bundleConfig(o.bundle);
        // Relative to the creating process's cgroup: the caller's, which this process does not share.
        if (isRelativeCgroupsPath(config?.linux?.cgroupsPath, id)) return { ok: false, decline: 'a relative cgroupsPath hangs from the caller\'s cgroup' };
        const why = this.stdioRefusal(req, config?.process?.terminal === true, o.consoleSocket, o.preserveFds);
        if (why) return { ok: false, decline: why };
        const result = await this.queue.run<unknown>(id, () =>
          req.op === 'create' ? rt.create(id, o) : rt.run(id, { ...o, detach: true, forwardSignals: false }),
        );
        this.watchContainer(id);
        return ok(result);
      }
      case 'exec': {
        const o = (args[1] ?? {}) as ExecOptions;
        if (!o.detach) return { ok: false, decline: 'a foreground exec is waited for in the caller' };
        // Into a paused container the spawn waits for a resume, which would queue behind it here: the caller runs it.
        if (o.ignorePaused) return { ok: false, decline: 'an exec that may wait for a resume runs in the caller' };
        const terminal = o.process ? o.process.terminal === true : o.tty === true;
        const why = this.stdioRefusal(req, terminal, o.consoleSocket, o.preserveFds);
        if (why) return { ok: false, decline: why };
        const k = key();
        const { pid } = await this.queue.run(k, () => rt.exec(id, o));
        // The exec'd process is our child (CLONE_PARENT): reap it when it ends.
        this.reaper.watch({ id: k, pid, startTime: this.internals.host.env.ports.sys.procStat(pid)?.startTime ?? null, kind: 'exec' });
        return ok({ pid });
      }
      case 'start':
        return ok(await this.queue.run(key(), () => rt.start(id)));
      case 'kill':
        return ok(await this.queue.run(key(), () => rt.kill(id, args[1] as number, args[2] as { all?: boolean })));
      case 'delete':
        return ok(await this.queue.run(key(), () => rt.delete(id, args[1] as { force?: boolean })));
      case 'state':
        return ok(await this.queue.run(key('read'), () => rt.state(id)));
      case 'pause':
        return ok(await this.queue.run(key(), () => rt.pause(id)));
      case 'resume':
        return ok(await this.queue.run(key(), () => rt.resume(id)));
      case 'ps':
        return ok(await this.queue.run(key('read'), () => rt.ps(id)));
      case 'stats':
        return ok(await this.queue.run(key('read'), () => rt.stats(id)));
      case 'update':
        return ok(await this.queue.run(key(), () => rt.update(id, args[1] as never)));
      case 'history':
        return ok(await rt.history(id));
      default:
        return { ok: false, decline: `unknown operation ${String(req.op)}` };
    }
  }

  /** The queue key of the container `id` names for this use: its full ID when it resolves, else `id` as given. */
  private key(id: string, use: IdUse): string {
    try {
      return resolveContainerId(this.internals.store, id, use);
    } catch {
      return id;
    }
  }

  /**
   * Why this process cannot make the caller's container (undefined when it can). A container's process inherits
   * the stdio of the process that spawns it; only a terminal (its pty, sent over the console socket) or stdio
   * identical to ours (e.g. both /dev/null, or one terminal) gives the same result as the caller doing it.
   */
  private stdioRefusal(req: Request, terminal: boolean, consoleSocket: string | undefined, preserveFds: number | undefined): string | undefined {
    if (preserveFds) return "the caller's extra fds (--preserve-fds) cannot be handed over";
    if (terminal && consoleSocket) return undefined;
    if (sameStdio(this.ownStdio, req.stdio ?? [])) return undefined;
    return "the process would inherit the caller's stdio, which the supervisor does not share";
  }
}

/** The bundle's config.json as far as the decisions here need it; undefined when unreadable (create reports that). */
function bundleConfig(bundle: string | undefined): { process?: { terminal?: boolean }; linux?: { cgroupsPath?: unknown } } | undefined {
  try {
    return JSON.parse(readFileSync(join(bundle ?? '.', 'config.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** A cgroupsPath that hangs from the creator's cgroup, by the rule create applies (one that cannot resolve: create says why). */
function isRelativeCgroupsPath(p: unknown, id: string): boolean {
  try {
    return typeof p === 'string' && !resolveCgroupPath(p, id).startsWith('/');
  } catch {
    return false;
  }
}

/** The chart already knows its gofer is gone (context.goferExited): watching or recording again would loop. */
function goferExitRecorded(snapshot: unknown): boolean {
  return (snapshot as { context?: { goferExited?: boolean } } | undefined)?.context?.goferExited === true;
}

/** RUNTS_TEST_FRONT_VERSION: the front protocol version this host claims (tests play a host of another build). */
function frontVersionOverride(): number | undefined {
  const v = Number(process.env.RUNTS_TEST_FRONT_VERSION);
  return Number.isInteger(v) && v > 0 ? v : undefined;
}
