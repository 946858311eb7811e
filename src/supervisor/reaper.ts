/**
 * Exit watching for a resident host, exact and without polling.
 *
 * Every watched process is held by a pidfd (opened, then checked against the recorded start time, so a reused PID
 * is never mistaken for the container's). How the exit is noticed depends on whose child it is:
 * - Our children (inits, gofers and detached execs the resident spawned: the native spawn uses CLONE_PARENT, so
 *   they are children of the process that called it): the kernel sends SIGCHLD; on each one an epoll set of their
 *   pidfds says which have exited — one epoll_wait, however many containers are watched — and those are reaped
 *   with waitpid, which gives the exit status. No thread is parked per container: a libuv pool thread per
 *   container (`pidfdWaitAsync`) would starve Node's pool — fs, dns, dynamic import — after four containers.
 * - Other processes' containers (created by a transient CLI or through the native front, or before the supervisor
 *   started): only their parent may wait for them, so their status is unknown (null), but the exit is still seen the
 *   moment it happens: their pidfds are in a second epoll set, which one small worker thread blocks on in poll(2)
 *   (the port's watchReadable) — one thread however many there are, started with the first.
 *
 * As a child subreaper the resident also inherits orphans (e.g. daemons of a container without its own pid
 * namespace). Those are reaped too — but only zombies that nobody else reaps: not watched, not one of Node's own
 * child_process children (libuv reaps those and must not lose them), and still a zombie a sweep later.
 */
import type { Logger } from 'pino';
import type { ReadableWatch, SyscallPort } from '../native/port.js';
import { exitStatus } from '../linux/proc.js';

export type WatchKind = 'init' | 'gofer' | 'exec';

/** A watched process. */
export interface Watch {
  /** The container it belongs to. */
  id: string;
  pid: number;
  kind: WatchKind;
  /** Our child when the watch began (its status can be had). */
  child: boolean;
  /** Not our child: its parent when the watch began (e.g. a foreground `runts run` that waits for it itself). */
  parentPid?: number;
}

/** Called once per watched process: its exit status (128 + signal when killed), or null when unknowable. */
export type ExitHandler = (w: Watch, exitStatus: number | null) => void;

interface Entry extends Watch {
  pidfd: number;
}

const WNOHANG = 1;
/** Exited children taken from the epoll set per call (more are fetched while a call comes back full). */
const READY_BATCH = 64;
const ORPHAN_GRACE_MS = 250;
export class Reaper {
  private readonly watched = new Map<number, Entry>();
  private suspects = new Set<number>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private started = false;
  /** The epoll set of our children's pidfds, keyed by pid (created with the first one). */
  private childExits: number | undefined;
  /** The epoll set of the other watched processes' pidfds, and the thread that waits on it (made with the first). */
  private otherExits: number | undefined;
  private otherWatch: ReadableWatch | undefined;
  private readonly onSigchld = () => {
    this.finishExitedChildren();
    if (this.reapOrphans) this.scheduleSweep();
  };

  /**
   * @param reapOrphans also reap zombie children nobody watches (adopted orphans). Only for a process whose own
   *   children are all known: an embedding program may hold an `exec()` handle whose `wait()` it calls later.
   */
  constructor(
    private readonly sys: SyscallPort,
    private readonly onExit: ExitHandler,
    private readonly log: Logger,
    private readonly reapOrphans = true,
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    process.on('SIGCHLD', this.onSigchld);
  }

  /** Pids being watched (tests, diagnostics). */
  pids(): number[] {
    return [...this.watched.keys()];
  }

  isWatching(pid: number): boolean {
    return this.watched.has(pid);
  }

  /**
   * Watches `pid` (whose start time, when known, must match). A process already gone is reported at once, with
   * a null status (someone else reaped it, or it is not ours to reap).
   */
  watch(w: { id: string; pid: number; startTime: number | null; kind: WatchKind }): void {
    if (w.pid <= 0 || this.watched.has(w.pid)) return;
    let pidfd: number;
    try {
      pidfd = this.sys.pidfdOpen(w.pid);
    } catch {
      this.onExit({ id: w.id, pid: w.pid, kind: w.kind, child: false }, null);
      return;
    }
    const stat = this.sys.procStat(w.pid);
    if (!stat || (w.startTime !== null && stat.startTime !== w.startTime)) {
      // The pidfd names whoever has the pid now; the container's process is gone.
      this.sys.closeFd(pidfd);
      this.onExit({ id: w.id, pid: w.pid, kind: w.kind, child: false }, null);
      return;
    }
    const child = stat.ppid === process.pid;
    const entry: Entry = { id: w.id, pid: w.pid, kind: w.kind, child, ...(child ? {} : { parentPid: stat.ppid }), pidfd };
    this.watched.set(w.pid, entry);
    if (entry.child) this.sys.epollAdd((this.childExits ??= this.sys.epollCreate()), pidfd, w.pid);
    else this.sys.epollAdd(this.otherSet(), pidfd, w.pid);
    // It may have exited before the watch began (its SIGCHLD already came and went).
    this.check(entry);
  }

  /** Stops watching everything (pidfds closed, the waiting thread told to stop). */
  close(): void {
    if (this.started) process.off('SIGCHLD', this.onSigchld);
    this.started = false;
    clearTimeout(this.sweepTimer);
    for (const e of this.watched.values()) this.release(e);
    this.watched.clear();
    if (this.childExits !== undefined) this.sys.closeFd(this.childExits);
    this.childExits = undefined;
    const [other, watch] = [this.otherExits, this.otherWatch];
    this.otherExits = this.otherWatch = undefined;
    if (other === undefined) return;
    if (!watch) return this.sys.closeFd(other);
    // The thread may be inside poll() on the set: it is closed once the thread is gone.
    watch.stop();
    watch.done.finally(() => this.sys.closeFd(other)).catch(() => undefined);
  }

  /** The epoll set of the other processes' pidfds, with its thread. */
  private otherSet(): number {
    if (this.otherExits !== undefined) return this.otherExits;
    const set = (this.otherExits = this.sys.epollCreate());
    this.otherWatch = this.sys.watchReadable(set, () => this.finishExited(set));
    this.otherWatch.done.catch((err: Error) => this.log.warn({ err: err.message }, 'the exit watcher failed: exits of other processes\' containers are seen at the next command'));
    return set;
  }

  /** Finishes every watched child that has exited (its pidfd is ready in the epoll set). */
  private finishExitedChildren(): void {
    if (this.childExits !== undefined) this.finishExited(this.childExits);
  }

  /** Finishes every watched process whose pidfd is ready in the epoll set `set`. */
  private finishExited(set: number): void {
    for (;;) {
      let ready: number[];
      try {
        ready = this.sys.epollReady(set, READY_BATCH);
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'reading exited processes failed: their exits are seen at the next command');
        return;
      }
      const entries = ready.map((pid) => this.watched.get(pid)).filter((e) => e !== undefined);
      for (const e of entries) this.finish(e);
      // A full batch may hide more; finishing removed these from the set (an entry not watched any more never stays).
      if (ready.length < READY_BATCH || entries.length === 0) return;
    }
  }

  private check(e: Entry): void {
    let exited: boolean;
    try {
      exited = this.sys.pidfdWait(e.pidfd, 0);
    } catch {
      exited = false;
    }
    if (exited) this.finish(e);
  }

  private finish(e: Entry): void {
    if (this.watched.get(e.pid) !== e) return;
    this.watched.delete(e.pid);
    let status: number | null = null;
    let reaped = false;
    try {
      const r = this.sys.waitPid(e.pid, WNOHANG);
      if (r.pid === e.pid) {
        status = exitStatus(r);
        reaped = true;
      }
    } catch {
      // ECHILD: not our child, or another waiter (a stop-waiter during delete, run()'s own wait) reaped it first.
    }
    this.release(e);
    // Our child reaped by someone else: that waiter has the status and records it; a null here would race it.
    if (e.child && !reaped) return;
    this.log.debug({ id: e.id, pid: e.pid, kind: e.kind, exitStatus: status }, 'watched process exited');
    this.onExit({ id: e.id, pid: e.pid, kind: e.kind, child: e.child, ...(e.parentPid ? { parentPid: e.parentPid } : {}) }, status);
  }

  private release(e: Entry): void {
    const set = e.child ? this.childExits : this.otherExits;
    try {
      if (set !== undefined) this.sys.epollDelete(set, e.pidfd);
    } catch {
      // not registered: closing the pidfd is all there is to do
    }
    this.sys.closeFd(e.pidfd);
  }

  private scheduleSweep(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      this.sweepOrphans();
    }, ORPHAN_GRACE_MS);
    this.sweepTimer.unref();
  }

  /** Pids of this process's zombie children. */
  private zombieChildren(): number[] {
    const out: number[] = [];
    for (const pid of this.sys.procPids()) {
      const stat = this.sys.procStat(pid);
      if (stat && stat.ppid === process.pid && stat.state === 'Z') out.push(stat.pid);
    }
    return out;
  }

  /** Reaps adopted orphans: zombie children nobody claims, seen in two sweeps in a row. */
  private sweepOrphans(): void {
    const nodeChildren = libuvChildren();
    if (!nodeChildren) return; // cannot tell Node's children apart: reaping one would lose its 'exit' forever
    const next = new Set<number>();
    for (const pid of this.zombieChildren()) {
      if (this.watched.has(pid) || nodeChildren.has(pid)) continue;
      if (!this.suspects.has(pid)) {
        next.add(pid);
        continue;
      }
      try {
        const r = this.sys.waitPid(pid, WNOHANG);
        if (r.pid === pid) this.log.debug({ pid, exitCode: r.exitCode, signal: r.signal }, 'reaped an adopted orphan');
      } catch {
        // reaped meanwhile
      }
    }
    this.suspects = next;
    if (next.size > 0) this.scheduleSweep();
  }
}

/** Pids of live child_process children (libuv waits for them by pid), or undefined when Node cannot say. */
function libuvChildren(): Set<number> | undefined {
  const handles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles;
  if (typeof handles !== 'function') return undefined;
  const pids = new Set<number>();
  for (const h of handles.call(process)) {
    const pid = (h as { pid?: unknown } | null)?.pid;
    if (typeof pid === 'number' && (h as object).constructor?.name === 'ChildProcess') pids.add(pid);
  }
  return pids;
}
