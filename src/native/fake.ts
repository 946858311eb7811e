import { decodePlan, PlanBuilder, type PlanHeader, type PlanOp } from './plan.js';
import { type GatedSpawn, NativeError, NativeSpawnError, type SeccompProfile, type SpawnResult, type SyscallPort, type WaitResult } from './port.js';

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

/**
 * A recording {@link SyscallPort} for unit tests: no syscalls, fake pids counting up from 40000.
 * Processes are "running" until `exit(pid, ...)` is called; then waits resolve and pidfds report exit.
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

  private nextPid = 40000;
  private nextFd = 1000;
  private readonly pidfds = new Map<number, number>();
  private readonly waiters = new Map<number, (() => void)[]>();
  /** epoll fd → registered fd → key. */
  private readonly epolls = new Map<number, Map<number, number>>();

  private record(method: keyof SyscallPort, args: unknown[]): void {
    this.calls.push({ method, args });
  }

  /** Marks a fake process as exited (default: exit code 0) and wakes its waiters. */
  exit(pid: number, how: { exitCode?: number; signal?: number } = {}): void {
    this.exited.set(pid, { exitCode: how.signal === undefined ? (how.exitCode ?? 0) : null, signal: how.signal ?? null });
    for (const wake of this.waiters.get(pid) ?? []) wake();
    this.waiters.delete(pid);
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
    return this.spawnNow('spawn', plan);
  }

  /** The gate opens or is cancelled at once from the test's point of view: `done` settles after open/cancel. */
  spawnGated(plan: PlanBuilder | Buffer): GatedSpawn {
    let go: (open: boolean) => void = () => undefined;
    const gate = new Promise<boolean>((resolve) => (go = resolve));
    const done = (async () => {
      const result = this.spawnNow('spawnGated', plan);
      if (await gate) return result;
      throw new NativeSpawnError({ operation: 'gate', errno: 125, errnoName: 'ECANCELED', opIndex: -1 });
    })();
    return { done, open: () => go(true), cancel: () => go(false) };
  }

  private spawnNow(method: 'spawn' | 'spawnGated', plan: PlanBuilder | Buffer): SpawnResult {
    const buf = plan instanceof PlanBuilder ? plan.encode() : plan;
    this.record(method, [buf]);
    const decoded = decodePlan(buf);
    if (this.failSpawn !== undefined) {
      const err = this.failSpawn;
      this.failSpawn = undefined;
      throw err;
    }
    const pid = this.nextPid++;
    const goferPid = decoded.ops.some((o) => o.op === 'spawnGofer') ? this.nextPid++ : 0;
    const pidfd = this.nextFd++;
    this.pidfds.set(pidfd, pid);
    this.spawns.push({ pid, pidfd, goferPid, ...decoded });
    const seccompFd = decoded.ops.some((o) => o.op === 'seccomp' && o.listener === 1) ? this.nextFd++ : -1;
    return { pid, pidfd, goferPid, seccompFd };
  }

  pidfdOpen(pid: number): number {
    this.record('pidfdOpen', [pid]);
    const fd = this.nextFd++;
    this.pidfds.set(fd, pid);
    return fd;
  }

  pidfdSendSignal(pidfd: number, signal: number): void {
    this.record('pidfdSendSignal', [pidfd, signal]);
    this.signals.push({ pid: this.pidOf(pidfd), signal });
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
    const how = this.exited.get(pid);
    if (how === undefined) return { pid: 0, exitCode: null, signal: null };
    return { pid, ...how };
  }

  async waitPidAsync(pid: number): Promise<WaitResult> {
    this.record('waitPidAsync', [pid]);
    await this.untilExit(pid);
    return { pid, ...this.exited.get(pid)! };
  }

  mkfifo(path: string, mode: number): void {
    this.record('mkfifo', [path, mode]);
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
    return [...(this.epolls.get(epfd) ?? new Map<number, number>())].filter(([fd]) => this.exited.has(this.pidOf(fd))).map(([, key]) => key).slice(0, max);
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
