/**
 * The control socket's wire format: one JSON line each way over a unix socket at `<root>/supervisor.sock`.
 * On connect the supervisor greets (`Hello`), the client sends one `Request`, the supervisor answers one `Reply`
 * and closes. A `decline` reply means "run it yourself" (the CLI then runs the command as a transient host).
 */
import { fstatSync } from 'node:fs';
import { join } from 'node:path';
import { RuntsError, type ErrorCode } from '../errors.js';

/** File name of the control socket inside the state root. */
export const SOCKET_NAME = 'supervisor.sock';
export const PROTOCOL_VERSION = 1;

/** Raised for supervisor-side failures, and for errors the supervisor sent back (same code and message). */
export class SupervisorError extends RuntsError {}

export function socketPath(root: string): string {
  return join(root, SOCKET_NAME);
}

/** The Runtime calls a CLI may forward. */
export const FORWARDED_OPS = [
  'ping', 'create', 'start', 'kill', 'delete', 'state', 'list', 'run', 'exec', 'pause', 'resume', 'ps', 'stats', 'update',
  'history',
] as const;
export type ForwardedOp = (typeof FORWARDED_OPS)[number];

export interface Hello {
  runts: 'supervisor';
  version: number;
  pid: number;
}

/**
 * What one of the caller's fds 0..2 is (device and inode), or null when closed: a container created by the
 * supervisor inherits the supervisor's stdio, so it may only run a caller's create when both name the same files.
 */
export interface StdioId {
  dev: number;
  ino: number;
  kind: 'chr' | 'fifo' | 'socket' | 'file' | 'other';
}

export interface Request {
  version: number;
  op: ForwardedOp;
  args: unknown[];
  /** The caller's fds 0, 1, 2. */
  stdio: (StdioId | null)[];
}

export interface WireError {
  name: string;
  code?: ErrorCode;
  message: string;
}

export type Reply = { ok: true; result: unknown } | { ok: false; error: WireError } | { ok: false; decline: string };

/** The identity of this process's fds 0..2. */
export function stdioIdentity(): (StdioId | null)[] {
  return [0, 1, 2].map((fd) => {
    try {
      const st = fstatSync(fd);
      const kind = st.isCharacterDevice() ? 'chr' : st.isFIFO() ? 'fifo' : st.isSocket() ? 'socket' : st.isFile() ? 'file' : 'other';
      return { dev: st.dev, ino: st.ino, kind };
    } catch {
      return null;
    }
  });
}

/**
 * Whether a process with `theirs` as stdio may have a container made by a process with `ours`: each fd closed in
 * both, or the same character device (/dev/null, one terminal) or the same pipe. Regular files and sockets are
 * refused: the same file through another open file description would not share offset or flags.
 */
export function sameStdio(ours: (StdioId | null)[], theirs: (StdioId | null)[]): boolean {
  return [0, 1, 2].every((i) => {
    const a = ours[i] ?? null;
    const b = theirs[i] ?? null;
    if (a === null || b === null) return a === b;
    return (a.kind === 'chr' || a.kind === 'fifo') && a.kind === b.kind && a.dev === b.dev && a.ino === b.ino;
  });
}

export function toWire(e: unknown): WireError {
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as { code?: unknown }).code;
  return { name: err.name, message: err.message, ...(e instanceof RuntsError && typeof code === 'string' ? { code: code as ErrorCode } : {}) };
}

/** The error a forwarded call failed with, rebuilt in the caller: same code and message (so stderr is the same). */
export function fromWire(w: WireError): Error {
  if (!w.code) return new Error(w.message);
  const e = new SupervisorError(w.code, w.message);
  e.name = w.name;
  return e;
}
