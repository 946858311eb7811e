import { RuntsError } from '../errors.js';
import type { PlanBuilder } from './plan.js';

/** One process as /proc/<pid>/stat describes it (the fields runts reads). */
export interface ProcStat {
  pid: number;
  /** R, S, D, Z, T, t, X, I … */
  state: string;
  ppid: number;
  /** Start time in clock ticks since boot: with the pid it names one process for its whole life (PID reuse guard). */
  startTime: number;
  /** The kernel's task flags (PF_*), e.g. PF_FORKNOEXEC of src/linux/proc.ts. */
  flags: number;
}

/** What `spawn` returns: the init's host pid and a pidfd for it (-1 where pidfd_open is unavailable). */
export interface SpawnResult {
  pid: number;
  pidfd: number;
  /** Host pid of the gofer the plan started (`spawnGofer`), 0 when it started none. */
  goferPid: number;
  /** The seccomp listener fd of a plan whose `seccomp` op asked for one (SCMP_ACT_NOTIFY), else -1: close it. */
  seccompFd: number;
}

/** A spawn waiting at its plan's `gate` op until the caller opens the gate (see {@link SyscallPort.spawnGated}). */
export interface GatedSpawn {
  /** Settles like {@link SyscallPort.spawn}'s promise; rejects (operation 'gate') once the gate was cancelled. */
  readonly done: Promise<SpawnResult>;
  /** Lets stage 1 go on past the gate. */
  open(): void;
  /** Ends the spawn at the gate: stage 1 exits and everything it started is stopped. */
  cancel(): void;
}

/** How a process ended: exitCode for a normal exit, signal (number) when killed; the other is null. */
export interface WaitStatus {
  exitCode: number | null;
  signal: number | null;
}

/** waitPid's answer; pid 0 (and both fields null) when WNOHANG was given and the child still runs. */
export interface WaitResult extends WaitStatus {
  pid: number;
}

/** A thread of its own blocked on one fd (see {@link SyscallPort.watchReadable}). */
export interface ReadableWatch {
  /** Settles once the thread is gone (after `stop`); rejects when it failed. The fd may be closed then. */
  readonly done: Promise<void>;
  /** Ends the watch (within a second). */
  stop(): void;
}

/**
 * Every kernel touch of the container lifecycle — the addon's system calls, and the signals, /proc reads and
 * exec-fifo writes Node could make itself — behind one interface, so unit tests use the recording fake
 * (test/helpers/fake-port.ts) and only integration tests touch the kernel.
 * Errors are {@link NativeError} (or {@link NativeSpawnError} from spawn).
 *
 * @example
 * const port = nativePort();
 * const { pid, pidfd } = await port.spawn(plan);
 * if (await port.pidfdWaitAsync(pidfd, 5000)) console.log(port.waitPid(pid));
 */
export interface SyscallPort {
  /**
   * Runs a plan in the container's processes (stage 1 is runts-init); settles when the plan's `ready` op ran (the
   * init then waits), on a thread of the addon's own so the caller's thread is free meanwhile.
   */
  spawn(plan: PlanBuilder | Buffer): Promise<SpawnResult>;
  /** Like spawn, for a plan with a `gate` op: stage 1 waits there until the caller opens the gate. */
  spawnGated(plan: PlanBuilder | Buffer): GatedSpawn;
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, signal: number): void;
  /** True when the process has exited (within timeoutMs; negative = no limit). Blocks the thread. */
  pidfdWait(pidfd: number, timeoutMs: number): boolean;
  /** Like pidfdWait on the libuv pool: exact, no polling in JS. */
  pidfdWaitAsync(pidfd: number, timeoutMs: number): Promise<boolean>;
  /** waitpid(2); flags e.g. WNOHANG. Only for the caller's own children (spawn's init is one). */
  waitPid(pid: number, flags?: number): WaitResult;
  /** A blocking waitpid on a libuv pool thread (holds that thread until the child exits). */
  waitPidAsync(pid: number): Promise<WaitResult>;
  mkfifo(path: string, mode: number): void;
  /** Listens on a unix socket at socketPath, accepts one connection and returns the fd it sends (SCM_RIGHTS). */
  recvFd(socketPath: string, timeoutMs: number): number;
  /** Like recvFd but the socket listens before this returns and the accept runs on the pool. */
  recvFdAsync(socketPath: string, timeoutMs: number): Promise<number>;
  /** Sends fd over a connected unix socket (SCM_RIGHTS). */
  sendFd(socketFd: number, fd: number): void;
  /** Connects to the unix socket at socketPath, sends `payload` with `fd` (SCM_RIGHTS) in one message, closes. */
  sendFdTo(socketPath: string, fd: number, payload: string): void;
  setChildSubreaper(on: boolean): void;
  setDumpable(on: boolean): void;
  /**
   * Process-wide: keep one runts-init started ahead of need, which the next spawn hands its plan instead of starting
   * one (a create waits for no clone, exec and program start-up); off drops the one waiting. For long-lived
   * embedders (Runtime.open).
   */
  keepInitReady(on: boolean): void;
  closeFd(fd: number): void;
  /** flock(2): takes the exclusive lock (blocking) when `exclusive`, releases it otherwise. */
  flock(fd: number, exclusive: boolean): void;
  /** An epoll set (close it with closeFd): pidfds registered in it tell which watched processes exited, at once. */
  epollCreate(): number;
  /** Registers `fd` (readable = ready; a pidfd: its process exited) under `key`. */
  epollAdd(epfd: number, fd: number, key: number): void;
  epollDelete(epfd: number, fd: number): void;
  /** The keys of up to `max` ready fds, without blocking; when `max` come back, handle them and ask again. */
  epollReady(epfd: number, max: number): number[];
  /** kill(2) by pid: false when there is no such process (ESRCH). A pidfd (pidfdSendSignal) cannot hit a reused pid. */
  kill(pid: number, signal: number): boolean;
  /** /proc/<pid>/stat (state, parent, start time, flags), or null when there is no such process. */
  procStat(pid: number): ProcStat | null;
  /** The pids in /proc (every process of this pid namespace). */
  procPids(): number[];
  /** The signals the process has a handler for (SigCgt of /proc/<pid>/status, bit n-1 = signal n); null: gone. */
  caughtSignals(pid: number): bigint | null;
  /** This process's permitted capabilities (CapPrm of /proc/self/status, bit n = capability n); null: unreadable. */
  ownPermittedCaps(): bigint | null;
  /** /proc/<pid>/oom_score_adj, or null when there is no such process. */
  readOomScoreAdj(pid: number): number | null;
  /** Sets /proc/<pid>/oom_score_adj; false when the process already exited. */
  writeOomScoreAdj(pid: number, score: number): boolean;
  /** /proc/<pid>/comm (the process name), or null when there is no such process. */
  procComm(pid: number): string | null;
  /**
   * Writes the one byte into the exec fifo at `path` that lets a blocked init exec the user program. Never blocks:
   * NativeError ENXIO when nobody reads it (the init is gone), ENOENT when it does not exist.
   */
  writeExecFifo(path: string): void;
  /**
   * Calls `onReady` (on this thread) each time `fd` polls readable, from a thread of its own blocked in poll(2):
   * exact, and no libuv pool thread parked (that would starve Node's pool). The next poll waits until `onReady`
   * returned, so it must consume what made the fd ready (for an epoll set of pidfds: take the exited processes out).
   */
  watchReadable(fd: number, onReady: () => void): ReadableWatch;
  /**
   * Compiles a seccomp profile with libseccomp (in this process, never in a cloned child) into the
   * `struct sock_filter[]` that a plan's `seccomp` op installs. Syscall names this libseccomp does not know are
   * skipped (runc does the same).
   * @throws SeccompCompileError for an action, architecture or operator it cannot apply (or a libseccomp failure).
   */
  compileSeccomp(profile: SeccompProfile): Buffer;
}

/** A seccomp profile as the addon takes it (the shape of OCI `linux.seccomp`, names as in the spec). */
export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  syscalls?: {
    names: string[];
    action: string;
    errnoRet?: number;
    /** value/valueTwo: JSON numbers (above 2^53 already rounded) or exact bigints. */
    args?: { index: number; value: number | bigint; valueTwo?: number | bigint; op: string }[];
  }[];
}

/**
 * The addon refused a seccomp profile. `field` names the part of it, relative to `linux.seccomp`
 * (e.g. "syscalls[2].action"); code 'bad_config' for a profile that cannot be applied, 'sys' when libseccomp failed.
 */
export class SeccompCompileError extends RuntsError {
  readonly field: string;
  constructor(code: 'bad_config' | 'sys', field: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.field = field;
  }
}

/** The errno fields the addon attaches to its errors. */
export interface NativeErrnoInfo {
  errno: number;
  errnoName: string;
  syscall: string;
  path?: string;
  description?: string;
}

function describe(description: string | undefined): string {
  return description ? ` (${description.charAt(0).toLowerCase()}${description.slice(1)})` : '';
}

/** A system call of the addon failed (or the addon is missing). `errnoName` is e.g. 'ESRCH'; `errno` positive. */
export class NativeError extends RuntsError {
  readonly errno: number;
  readonly errnoName: string;
  readonly syscall: string;
  readonly path: string | undefined;

  constructor(info: NativeErrnoInfo, options?: { cause?: unknown; message?: string }) {
    const where = info.path ? ` ${info.path}` : '';
    super('sys', options?.message ?? `${info.syscall}${where}: ${info.errnoName}${describe(info.description)}`, options);
    this.errno = info.errno;
    this.errnoName = info.errnoName;
    this.syscall = info.syscall;
    this.path = info.path;
  }
}

/**
 * An op of a spawn plan failed in the child (or the spawn machinery did). `operation` is the op name
 * ('mount', 'pivotRoot', 'checkExec', ...), or 'clone'/'socketpair'/'spawn' for the machinery.
 * Message: `mount /proc: EPERM (operation not permitted)`.
 */
export class NativeSpawnError extends NativeError {
  readonly operation: string;
  readonly opIndex: number;

  constructor(
    info: { operation: string; errno: number; errnoName: string; path?: string; opIndex: number; description?: string },
    options?: { cause?: unknown; message?: string },
  ) {
    const where = info.path ? ` ${info.path}` : '';
    super(
      { errno: info.errno, errnoName: info.errnoName, syscall: info.operation, path: info.path || undefined },
      { ...options, message: options?.message ?? `${info.operation}${where}: ${info.errnoName}${describe(info.description)}` },
    );
    this.operation = info.operation;
    this.opIndex = info.opIndex;
  }
}
