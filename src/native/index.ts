import { closeSync, constants, existsSync, openSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { listProcPids, readCaughtSignals, readOomScoreAdj, readOwnPermittedCaps, readProcComm, readProcStat, writeOomScoreAdj } from '../linux/proc.js';

import { PlanBuilder, PlanError } from './plan.js';
import {
  type ReadableWatch,
  type GatedSpawn,
  NativeError,
  NativeSpawnError,
  SeccompCompileError,
  type SeccompProfile,
  type SpawnResult,
  type SyscallPort,
  type WaitResult,
} from './port.js';

export * from './plan.js';
export * from './port.js';

/** The raw addon (build/Release/runts_native.node), as exported by src/native/addon.cc. */
interface Addon {
  spawn(plan: Buffer, gateFd?: number): Promise<SpawnResult>;
  pipe(): [number, number];
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, signal: number): void;
  pidfdWait(pidfd: number, timeoutMs: number): boolean;
  pidfdWaitAsync(pidfd: number, timeoutMs: number): Promise<boolean>;
  waitPid(pid: number, flags: number): WaitResult;
  waitPidAsync(pid: number): Promise<WaitResult>;
  mkfifo(path: string, mode: number): void;
  recvFd(socketPath: string, timeoutMs: number): number;
  recvFdAsync(socketPath: string, timeoutMs: number): Promise<number>;
  sendFd(socketFd: number, fd: number): void;
  sendFdTo(socketPath: string, fd: number, payload: string): void;
  setChildSubreaper(on: boolean): void;
  setDumpable(on: boolean): void;
  keepInitReady(on: boolean): void;
  closeFd(fd: number): void;
  frontReceive(fd: number, timeoutMs: number): Promise<FrontRequest>;
  flock(fd: number, exclusive: boolean): void;
  epollCreate(): number;
  epollAdd(epfd: number, fd: number, key: number): void;
  epollDelete(epfd: number, fd: number): void;
  epollReady(epfd: number, max: number): number[];
  compileSeccomp(profile: SeccompProfile): Buffer;
}

/** Errors as thrown by the addon (see the header comment of addon.cc). */
interface AddonError extends Error {
  code?: string;
  errno?: number;
  syscall?: string;
  path?: string;
  description?: string;
  operation?: string;
  opIndex?: number;
  field?: string;
}

// Both src/native/index.ts (tsx) and dist/native/index.js (tsc output) sit two levels below the repo root.
const ADDON_PATH = fileURLToPath(new URL('../../build/Release/runts_native.node', import.meta.url));

let addon: Addon | undefined;

function load(): Addon {
  if (addon !== undefined) return addon;
  if (!existsSync(ADDON_PATH)) {
    throw new NativeError(
      { errno: 2, errnoName: 'ENOENT', syscall: 'dlopen', path: ADDON_PATH },
      { message: `runts native addon not built (${ADDON_PATH} is missing): run npm run build:native` },
    );
  }
  addon = createRequire(import.meta.url)(ADDON_PATH) as Addon;
  return addon;
}

function convert(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const a = e as AddonError;
  if (a.code === 'ERR_RUNTS_BAD_PLAN') return new PlanError('bad_config', a.message);
  if (a.code === 'ERR_RUNTS_SECCOMP' || a.code === 'ERR_RUNTS_SECCOMP_SYS') {
    return new SeccompCompileError(a.code === 'ERR_RUNTS_SECCOMP' ? 'bad_config' : 'sys', a.field ?? '', a.message, { cause: e });
  }
  if (typeof a.operation === 'string') {
    return new NativeSpawnError(
      {
        operation: a.operation,
        errno: a.errno ?? 0,
        errnoName: a.code ?? 'EUNKNOWN',
        path: a.path,
        opIndex: a.opIndex ?? -1,
        description: a.description,
      },
      // errno 0: the addon's message explains (e.g. the init exited before ready).
      { cause: e, message: a.errno ? undefined : a.message },
    );
  }
  if (typeof a.errno === 'number' && typeof a.syscall === 'string') {
    return new NativeError(
      { errno: a.errno, errnoName: a.code ?? 'EUNKNOWN', syscall: a.syscall, path: a.path, description: a.description },
      { cause: e },
    );
  }
  return e;
}

function call<T>(fn: (a: Addon) => T): T {
  try {
    return fn(load());
  } catch (e) {
    throw convert(e);
  }
}

async function callAsync<T>(fn: (a: Addon) => Promise<T>): Promise<T> {
  try {
    return await fn(load());
  } catch (e) {
    throw convert(e);
  }
}

/** The gate is a pipe: spawn gets the read end (and closes it), we keep the write end until open or cancel. */
function spawnGated(plan: Buffer): GatedSpawn {
  const [gateRead, gateWrite] = call((a) => a.pipe());
  const done: Promise<SpawnResult> = callAsync((a) => a.spawn(plan, gateRead));
  let writeEnd: number | undefined = gateWrite;
  const settle = (go: boolean) => {
    if (writeEnd === undefined) return;
    const fd = writeEnd;
    writeEnd = undefined;
    try {
      // EPIPE when stage 1 is gone already (its spawn failed): `done` says why.
      if (go) writeSync(fd, Uint8Array.of(1));
    } catch {
      // see above
    } finally {
      closeSync(fd);
    }
  };
  return { done, open: () => settle(true), cancel: () => settle(false) };
}

/** A Node fs error as the port's NativeError (errnoName ENOENT, ENXIO, ...). */
function fromNode(e: unknown, syscall: string, path?: string): unknown {
  const n = e as NodeJS.ErrnoException;
  if (typeof n?.code !== 'string' || typeof n.errno !== 'number') return e;
  return new NativeError({ errno: Math.abs(n.errno), errnoName: n.code, syscall, path }, { cause: e });
}

function kill(pid: number, signal: number): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw fromNode(e, 'kill');
  }
}

function writeExecFifo(path: string): void {
  let fd: number;
  try {
    // Non-blocking: with no reader (the init died) this fails at once with ENXIO instead of hanging.
    fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw fromNode(e, 'open', path);
  }
  try {
    writeSync(fd, '0');
  } catch (e) {
    throw fromNode(e, 'write', path);
  } finally {
    closeSync(fd);
  }
}

// A plain CommonJS worker: it only needs the addon's pidfdWait (a poll for POLLIN, any fd), and an eval'd source works
// the same from src/ and dist/. It polls in slices so `stop` is honoured; after each ready it waits until the main
// thread handled it (control[1] set), as the fd stays ready until then.
const WAITER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const addon = require(workerData.addon);
const control = new Int32Array(workerData.control);
while (Atomics.load(control, 0) === 0) {
  if (!addon.pidfdWait(workerData.fd, 1000)) continue;
  parentPort.postMessage('ready');
  while (Atomics.load(control, 0) === 0 && Atomics.wait(control, 1, 0, 1000) === 'timed-out') {}
  Atomics.store(control, 1, 0);
}
`;

function watchReadable(fd: number, onReady: () => void): ReadableWatch {
  // [0]: stop; [1]: the last ready was handled.
  const control = new Int32Array(new SharedArrayBuffer(8));
  // Loaded here, not at the top: only a resident host watches other processes' containers (CLI start-up stays lean).
  const { Worker } = process.getBuiltinModule('node:worker_threads');
  const worker = new Worker(WAITER_SOURCE, { eval: true, workerData: { addon: ADDON_PATH, fd, control: control.buffer } });
  worker.unref();
  let failure: Error | undefined;
  worker.on('message', () => {
    try {
      onReady();
    } finally {
      Atomics.store(control, 1, 1);
      Atomics.notify(control, 1);
    }
  });
  worker.on('error', (err) => (failure = err));
  // Settles only once the thread is gone: it may be inside poll() on the fd until then.
  const done = new Promise<void>((resolve, reject) => worker.on('exit', () => (failure ? reject(failure) : resolve())));
  return {
    done,
    stop: () => {
      Atomics.store(control, 0, 1);
      Atomics.notify(control, 1);
    },
  };
}

const port: SyscallPort = {
  spawn: (plan) => callAsync((a) => a.spawn(plan instanceof PlanBuilder ? plan.encode() : plan)),
  spawnGated: (plan) => spawnGated(plan instanceof PlanBuilder ? plan.encode() : plan),
  pidfdOpen: (pid) => call((a) => a.pidfdOpen(pid)),
  pidfdSendSignal: (pidfd, signal) => call((a) => a.pidfdSendSignal(pidfd, signal)),
  pidfdWait: (pidfd, timeoutMs) => call((a) => a.pidfdWait(pidfd, timeoutMs)),
  pidfdWaitAsync: (pidfd, timeoutMs) => callAsync((a) => a.pidfdWaitAsync(pidfd, timeoutMs)),
  waitPid: (pid, flags = 0) => call((a) => a.waitPid(pid, flags)),
  waitPidAsync: (pid) => callAsync((a) => a.waitPidAsync(pid)),
  mkfifo: (path, mode) => call((a) => a.mkfifo(path, mode)),
  recvFd: (socketPath, timeoutMs) => call((a) => a.recvFd(socketPath, timeoutMs)),
  recvFdAsync: (socketPath, timeoutMs) => callAsync((a) => a.recvFdAsync(socketPath, timeoutMs)),
  sendFd: (socketFd, fd) => call((a) => a.sendFd(socketFd, fd)),
  sendFdTo: (socketPath, fd, payload) => call((a) => a.sendFdTo(socketPath, fd, payload)),
  setChildSubreaper: (on) => call((a) => a.setChildSubreaper(on)),
  setDumpable: (on) => call((a) => a.setDumpable(on)),
  keepInitReady: (on) => call((a) => a.keepInitReady(on)),
  closeFd: (fd) => call((a) => a.closeFd(fd)),
  flock: (fd, exclusive) => call((a) => a.flock(fd, exclusive)),
  epollCreate: () => call((a) => a.epollCreate()),
  epollAdd: (epfd, fd, key) => call((a) => a.epollAdd(epfd, fd, key)),
  epollDelete: (epfd, fd) => call((a) => a.epollDelete(epfd, fd)),
  epollReady: (epfd, max) => call((a) => a.epollReady(epfd, max)),
  compileSeccomp: (profile) => call((a) => a.compileSeccomp(profile)),
  kill,
  procStat: (pid) => readProcStat(pid),
  procPids: () => listProcPids(),
  caughtSignals: (pid) => readCaughtSignals(pid),
  procComm: (pid) => readProcComm(pid),
  ownPermittedCaps: () => readOwnPermittedCaps(),
  readOomScoreAdj: (pid) => readOomScoreAdj(pid),
  writeOomScoreAdj: (pid, score) => writeOomScoreAdj(pid, score),
  writeExecFifo,
  watchReadable,
};

/** A request of the native front as received by a warm host (src/front/front-wire.h). */
export interface FrontRequest {
  /** The peer's uid and pid (SO_PEERCRED); when the uid is not ours nothing was read. */
  uid: number;
  pid: number;
  /** The front protocol version it speaks (0 when nothing was read); the body and fds only when it is ours. */
  version: number;
  body: Buffer;
  /** The caller's fds 0, 1, 2, now this process's (close-on-exec). */
  fds: number[];
}

/** Reads the front's request on an accepted connection `fd`, within `timeoutMs` (on the libuv pool). */
export function frontReceive(fd: number, timeoutMs: number): Promise<FrontRequest> {
  return callAsync((a) => a.frontReceive(fd, timeoutMs));
}

/**
 * The real {@link SyscallPort}, backed by the addon (loaded on first use).
 * @throws NativeError from any method when the addon is not built ("run npm run build:native").
 * @example
 * const { pid } = await nativePort().spawn(new PlanBuilder().ready().exec('/bin/true', ['true'], []));
 */
export function nativePort(): SyscallPort {
  return port;
}

/** True when build/Release/runts_native.node exists (tests use it to skip). */
export function nativeAddonBuilt(): boolean {
  return existsSync(ADDON_PATH);
}
