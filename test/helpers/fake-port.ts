import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PF_FORKNOEXEC, type ProcStat } from '../../src/linux/proc.js';
import { decodePlan, PlanBuilder, type PlanHeader, type PlanOp } from '../../src/native/plan.js';
import {
  type ReadableWatch,
  type GatedSpawn,
  NativeError,
  NativeSpawnError,
  type SeccompProfile,
  type SpawnResult,
  type SyscallPort,
  type WaitResult,
} from '../../src/native/port.js';

/** One recorded call of the fake. */
export interface FakeCall {
  method: keyof SyscallPort;
  args: unknown[];
}

/** A plan the fake "spawned", decoded from the buffer (so the encoding is exercised too). */
export interface FakeSpawn {
  pid: number;
  pidfd: number;
  /** A fake pid when the plan had a `spawnGofer` op, else 0. */
  goferPid: number;
  header: PlanHeader;
  ops: PlanOp[];
}

/** A process of the fake's own process table (what its procStat, kill and pidfds see). */
export interface FakeProcess {
  pid: number;
  ppid: number;
  startTime: number;
  /** 'Z' once exited while its parent (this process) has not reaped it. */
  state: 'S' | 'Z';
  /** Still runts' clone waiting on the exec fifo (PF_FORKNOEXEC) until a writeExecFifo lets it exec. */
  waiting: boolean;
  comm: string;
  /** Signals it has a handler for (not fatal to it): bit n-1 = signal n. */
  caught: bigint;
  /** Survives even SIGKILL (a task stuck in the kernel). */
  unkillable: boolean;
  /** cgroup.procs files it joined (its plan's cgroupOpen ops): it leaves them when it exits. */
  cgroupProcs: string[];
  /** The exec fifo it reads (its plan's openFifo op). */
  fifo?: string;
}

/** Signals whose default action is not to end the process (SIGCHLD, SIGCONT, SIGSTOP, SIGTSTP, SIGURG, SIGWINCH...). */
const NOT_FATAL = new Set([0, 17, 18, 19, 20, 21, 22, 23, 28]);

/**
 * A recording {@link SyscallPort} for unit tests: no syscalls, fake pids counting up from 40000, a process table
 * of its own (this process is in it; `addProcess` adds others). Processes run until `exit(pid, ...)` or a fatal
 * signal (kill, pidfdSendSignal: SIGKILL always, others unless caught); then waits resolve and pidfds report the
 * exit. A spawned init joins the cgroup.procs files its plan opened (its pid is appended) and leaves them at exit.
 * Set `failSpawn` to make the next spawn reject with that error.
 *
 * @example
 * const port = new FakeSyscallPort();
 * const { pid } = await port.spawn(plan);
 * assert.equal(port.spawns[0].ops[0].op, 'writeFile');
 * port.exit(pid, { exitCode: 0 });
 */
export class FakeSyscallPort implements SyscallPort {
  readonly calls: FakeCall[] = [];
  readonly spawns: FakeSpawn[] = [];
  /** pid → how it ended; absent = running. */
  readonly exited = new Map<number, { exitCode: number | null; signal: number | null }>();
  /** Signals sent through pidfdSendSignal, in order. */
  readonly signals: { pid: number; signal: number }[] = [];
  failSpawn: Error | undefined;
  /** pid → process; a reaped (or never known) pid is absent. */
  readonly procs = new Map<number, FakeProcess>();

  private nextPid = 40000;
  private nextFd = 1000;
  private readonly pidfds = new Map<number, number>();
  private readonly waiters = new Map<number, (() => void)[]>();
  /** epoll fd → registered fd → key. */
  private readonly epolls = new Map<number, Map<number, number>>();
  private readonly readableWatches = new Set<() => void>();

  constructor() {
    this.procs.set(process.pid, this.newProcess(process.pid, { ppid: process.ppid, comm: 'node', waiting: false }));
  }

  private record(method: keyof SyscallPort, args: unknown[]): void {
    this.calls.push({ method, args });
  }

  private newProcess(pid: number, o: Partial<FakeProcess>): FakeProcess {
    return { pid, ppid: process.pid, startTime: 1000 + pid, state: 'S', waiting: false, comm: 'fake', caught: 0n, unkillable: false, cgroupProcs: [], ...o };
  }

  /** A running process in the table (a child of this process unless `ppid` says otherwise); returns its pid. */
  addProcess(o: Partial<Omit<FakeProcess, 'pid'>> = {}): number {
    const pid = this.nextPid++;
    this.procs.set(pid, this.newProcess(pid, o));
    return pid;
  }

  /** The calls made so far to `method`, as their argument lists. */
  callsOf(method: keyof SyscallPort): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }

  /**
   * Marks a fake process as exited (default: exit code 0) and wakes its waiters: it leaves its cgroups, and stays
   * a zombie until reaped when it is this process's child.
   */
  exit(pid: number, how: { exitCode?: number; signal?: number } = {}): void {
    this.exited.set(pid, { exitCode: how.signal === undefined ? (how.exitCode ?? 0) : null, signal: how.signal ?? null });
    const p = this.procs.get(pid);
    if (p) {
      for (const file of p.cgroupProcs) leaveCgroup(file, pid);
      if (p.ppid === process.pid) p.state = 'Z';
      else this.procs.delete(pid);
    }
    for (const wake of this.waiters.get(pid) ?? []) wake();
    this.waiters.delete(pid);
    // As the watching thread would: after the exit, on a later turn.
    for (const watch of this.readableWatches) setImmediate(watch);
  }

  /** What a signal does to a fake process: records it, and ends the process when it is fatal to it. */
  private deliver(pid: number, signal: number): void {
    this.signals.push({ pid, signal });
    const p = this.procs.get(pid);
    if (!p || p.state === 'Z' || NOT_FATAL.has(signal)) return;
    if (signal === 9 ? p.unkillable : ((p.caught >> BigInt(signal - 1)) & 1n) === 1n) return;
    this.exit(pid, { signal });
  }

  private untilExit(pid: number): Promise<void> {
    if (this.exited.has(pid)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.waiters.get(pid) ?? [];
      list.push(resolve);
      this.waiters.set(pid, list);
    });
  }

  private pidOf(pidfd: number): number {
    const pid = this.pidfds.get(pidfd);
    if (pid === undefined) throw new NativeError({ errno: 9, errnoName: 'EBADF', syscall: 'pidfd' });
    return pid;
  }

  async spawn(plan: PlanBuilder | Buffer): Promise<SpawnResult> {
    const buf = plan instanceof PlanBuilder ? plan.encode() : plan;
    this.record('spawn', [buf]);
    const result = this.spawnNow(buf);
    this.join(result.pid);
    return result;
  }

  /**
   * The gate opens or is cancelled at once from the test's point of view: `done` settles after open/cancel. As with
   * the real one, stage 1 exists from the call on but joins its cgroups (and so counts as spawned) only past the gate.
   */
  spawnGated(plan: PlanBuilder | Buffer): GatedSpawn {
    const buf = plan instanceof PlanBuilder ? plan.encode() : plan;
    this.record('spawnGated', [buf]);
    let go: (open: boolean) => void = () => undefined;
    const gate = new Promise<boolean>((resolve) => (go = resolve));
    const done = (async () => {
      const open = await gate;
      // A failing spawn fails whether or not the gate opens (stage 1 died before it).
      const result = this.spawnNow(buf);
      if (open) {
        this.join(result.pid);
        return result;
      }
      // Stage 1 ends at the gate and stops what it started: nothing of this spawn is left.
      this.procs.delete(result.pid);
      if (result.goferPid > 0) this.procs.delete(result.goferPid);
      this.spawns.pop();
      throw new NativeSpawnError({ operation: 'gate', errno: 125, errnoName: 'ECANCELED', opIndex: -1 });
    })();
    return { done, open: () => go(true), cancel: () => go(false) };
  }

  private spawnNow(buf: Buffer): SpawnResult {
    const decoded = decodePlan(buf);
    if (this.failSpawn !== undefined) {
      const err = this.failSpawn;
      this.failSpawn = undefined;
      throw err;
    }
    const pid = this.nextPid++;
    const goferPid = decoded.ops.some((o) => o.op === 'spawnGofer') ? this.nextPid++ : 0;
    const cgroupProcs = decoded.ops.flatMap((o) => (o.op === 'cgroupOpen' ? [o.path] : []));
    const fifo = decoded.ops.find((o) => o.op === 'openFifo')?.path;
    this.procs.set(pid, this.newProcess(pid, { comm: 'runts-init', waiting: fifo !== undefined, cgroupProcs, fifo }));
    if (goferPid > 0) {
      this.procs.set(goferPid, this.newProcess(goferPid, { comm: 'runts-gofer' }));
      // The gofer's socket (a plain file standing in for it): runts chmods it after the spawn.
      const prepare = decoded.ops.find((o) => o.op === 'goferPrepare');
      if (prepare && existsSync(dirname(prepare.socketPath))) writeFileSync(prepare.socketPath, '');
    }
    const pidfd = this.nextFd++;
    this.pidfds.set(pidfd, pid);
    this.spawns.push({ pid, pidfd, goferPid, ...decoded });
    const seccompFd = decoded.ops.some((o) => o.op === 'seccomp' && o.listener === 1) ? this.nextFd++ : -1;
    return { pid, pidfd, goferPid, seccompFd };
  }

  /** What the fake's spawned process does of its plan past the gate: joins its cgroups. */
  private join(pid: number): void {
    for (const file of this.procs.get(pid)?.cgroupProcs ?? []) writeFileSync(file, `${pid}\n`, { flag: 'a' });
  }

  pidfdOpen(pid: number): number {
    this.record('pidfdOpen', [pid]);
    if (!this.procs.has(pid)) throw new NativeError({ errno: 3, errnoName: 'ESRCH', syscall: 'pidfd_open' });
    const fd = this.nextFd++;
    this.pidfds.set(fd, pid);
    return fd;
  }

  pidfdSendSignal(pidfd: number, signal: number): void {
    this.record('pidfdSendSignal', [pidfd, signal]);
    this.deliver(this.pidOf(pidfd), signal);
  }

  pidfdWait(pidfd: number, timeoutMs: number): boolean {
    this.record('pidfdWait', [pidfd, timeoutMs]);
    return this.exited.has(this.pidOf(pidfd));
  }

  async pidfdWaitAsync(pidfd: number, timeoutMs: number): Promise<boolean> {
    this.record('pidfdWaitAsync', [pidfd, timeoutMs]);
    const pid = this.pidOf(pidfd);
    if (timeoutMs < 0) {
      await this.untilExit(pid);
      return true;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([this.untilExit(pid), timeout]);
    clearTimeout(timer);
    return this.exited.has(pid);
  }

  waitPid(pid: number, flags = 0): WaitResult {
    this.record('waitPid', [pid, flags]);
    this.mustBeChild(pid);
    const how = this.exited.get(pid);
    if (how === undefined) return { pid: 0, exitCode: null, signal: null };
    this.reap(pid);
    return { pid, ...how };
  }

  async waitPidAsync(pid: number): Promise<WaitResult> {
    this.record('waitPidAsync', [pid]);
    this.mustBeChild(pid);
    await this.untilExit(pid);
    this.reap(pid);
    return { pid, ...this.exited.get(pid)! };
  }

  /** waitpid's ECHILD: not this process's child, or reaped already. */
  private mustBeChild(pid: number): void {
    if (this.procs.get(pid)?.ppid !== process.pid) throw new NativeError({ errno: 10, errnoName: 'ECHILD', syscall: 'waitpid' });
  }

  private reap(pid: number): void {
    if (this.procs.get(pid)?.state === 'Z') this.procs.delete(pid);
  }

  /** Makes an empty regular file in its place (so unlink, ENOENT and EEXIST behave as with the real one). */
  mkfifo(path: string, mode: number): void {
    this.record('mkfifo', [path, mode]);
    try {
      writeFileSync(path, '', { flag: 'wx', mode });
    } catch (e) {
      const n = e as NodeJS.ErrnoException;
      throw new NativeError({ errno: Math.abs(n.errno ?? 0), errnoName: n.code ?? 'EIO', syscall: 'mkfifo', path });
    }
  }

  kill(pid: number, signal: number): boolean {
    this.record('kill', [pid, signal]);
    if (!this.procs.has(pid)) return false;
    this.deliver(pid, signal);
    return true;
  }

  procStat(pid: number): ProcStat | null {
    const p = this.procs.get(pid);
    return p ? { pid, state: p.state, ppid: p.ppid, startTime: p.startTime, flags: p.waiting ? PF_FORKNOEXEC : 0 } : null;
  }

  procPids(): number[] {
    return [...this.procs.keys()];
  }

  caughtSignals(pid: number): bigint | null {
    return this.procs.get(pid)?.caught ?? null;
  }

  /** oom_score_adj of the fake processes (0 until written). */
  readonly oomScores = new Map<number, number>();

  readOomScoreAdj(pid: number): number | null {
    this.record('readOomScoreAdj', [pid]);
    return this.procs.has(pid) ? (this.oomScores.get(pid) ?? 0) : null;
  }

  writeOomScoreAdj(pid: number, score: number): boolean {
    this.record('writeOomScoreAdj', [pid, score]);
    if (!this.procs.has(pid)) return false;
    this.oomScores.set(pid, score);
    return true;
  }

  /** Set to what runts' own permitted capabilities should be (default: all of them). */
  ownCaps: bigint | null = (1n << 41n) - 1n;

  ownPermittedCaps(): bigint | null {
    return this.ownCaps;
  }

  procComm(pid: number): string | null {
    return this.procs.get(pid)?.comm ?? null;
  }

  /** ENOENT without the file; ENXIO unless a live fake init reads it (then that init "execs": it stops waiting). */
  writeExecFifo(path: string): void {
    this.record('writeExecFifo', [path]);
    if (!existsSync(path)) throw new NativeError({ errno: 2, errnoName: 'ENOENT', syscall: 'open', path });
    const reader = [...this.procs.values()].find((p) => p.fifo === path && p.waiting && p.state !== 'Z');
    if (!reader) throw new NativeError({ errno: 6, errnoName: 'ENXIO', syscall: 'open', path });
    reader.waiting = false;
  }

  /** Calls `onReady` after a fake exit that leaves a registered pidfd of the epoll set `fd` ready, until stopped. */
  watchReadable(fd: number, onReady: () => void): ReadableWatch {
    this.record('watchReadable', [fd]);
    let stop: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (stop = resolve));
    const watch = () => {
      if (this.epollReadyKeys(fd).length > 0) onReady();
    };
    this.readableWatches.add(watch);
    void done.then(() => this.readableWatches.delete(watch));
    return { done, stop };
  }

  recvFd(socketPath: string, timeoutMs: number): number {
    this.record('recvFd', [socketPath, timeoutMs]);
    return this.nextFd++;
  }

  async recvFdAsync(socketPath: string, timeoutMs: number): Promise<number> {
    this.record('recvFdAsync', [socketPath, timeoutMs]);
    return this.nextFd++;
  }

  sendFd(socketFd: number, fd: number): void {
    this.record('sendFd', [socketFd, fd]);
  }

  sendFdTo(socketPath: string, fd: number, payload: string): void {
    this.record('sendFdTo', [socketPath, fd, payload]);
  }

  setChildSubreaper(on: boolean): void {
    this.record('setChildSubreaper', [on]);
  }

  setDumpable(on: boolean): void {
    this.record('setDumpable', [on]);
  }

  keepInitReady(on: boolean): void {
    this.record('keepInitReady', [on]);
  }

  closeFd(fd: number): void {
    this.record('closeFd', [fd]);
  }

  epollCreate(): number {
    this.record('epollCreate', []);
    const fd = this.nextFd++;
    this.epolls.set(fd, new Map());
    return fd;
  }

  epollAdd(epfd: number, fd: number, key: number): void {
    this.record('epollAdd', [epfd, fd, key]);
    this.epolls.get(epfd)?.set(fd, key);
  }

  epollDelete(epfd: number, fd: number): void {
    this.record('epollDelete', [epfd, fd]);
    this.epolls.get(epfd)?.delete(fd);
  }

  /** Keys of the registered pidfds whose fake process has exited. */
  epollReady(epfd: number, max: number): number[] {
    this.record('epollReady', [epfd, max]);
    return this.epollReadyKeys(epfd).slice(0, max);
  }

  private epollReadyKeys(epfd: number): number[] {
    return [...(this.epolls.get(epfd) ?? new Map<number, number>())].filter(([fd]) => this.exited.has(this.pidOf(fd))).map(([, key]) => key);
  }

  flock(fd: number, exclusive: boolean): void {
    this.record('flock', [fd, exclusive]);
  }

  /** Set to make the next compileSeccomp throw that error. */
  failSeccomp: Error | undefined;

  /** Records the profile and returns a one-instruction program (`ret SECCOMP_RET_ALLOW`); compiles nothing. */
  compileSeccomp(profile: SeccompProfile): Buffer {
    this.record('compileSeccomp', [profile]);
    if (this.failSeccomp !== undefined) {
      const err = this.failSeccomp;
      this.failSeccomp = undefined;
      throw err;
    }
    return Buffer.from([0x06, 0, 0, 0, 0, 0, 0xff, 0x7f]);
  }
}

/** Takes `pid` out of a fake cgroup.procs file (a cgroup dir removed meanwhile is fine). */
function leaveCgroup(file: string, pid: number): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return;
  }
  const left = text.split('\n').filter((l) => l !== '' && l !== String(pid));
  writeFileSync(file, left.map((l) => `${l}\n`).join(''));
}
