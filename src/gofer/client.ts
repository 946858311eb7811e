/**
 * The client side of a container's gofer: read, write, list and stat files inside the container through the
 * gofer's unix socket (`<root>/<id>/gofer.sock`, protocol in src/gofer/wire.h). The gofer resolves every path
 * beneath the container's root and refuses any that would leave it, and anything that shows the kernel's state
 * rather than the container's files (procfs, sysfs and other pseudo filesystems, the container's /proc and /sys,
 * fifos and device nodes); this module turns its answers into {@link GoferError}s that say what happened and what
 * to do.
 *
 * One connection per call; the gofer serves connections one at a time, so calls to one container queue up.
 *
 * @example
 * await goferWrite('/run/runts', 'web', '/etc/motd', 'hello\n');
 * const text = (await goferRead('/run/runts', 'web', '/etc/motd')).toString();
 * for (const e of await goferList('/run/runts', 'web', '/etc')) console.log(e.type, e.name);
 */
import { closeSync, openSync } from 'node:fs';
import type net from 'node:net';
import { basename, dirname } from 'node:path';
import { GoferError } from './errors.js';
import { goferSocketPath } from './paths.js';
import {
  ENTRY_TYPE,
  errnoName,
  FILE_TYPE,
  FRAME_ERROR,
  KERNEL_DIR,
  MAX_FRAME,
  MAX_PATH,
  OP,
  PSEUDO_FS,
  REFUSED,
  REQUEST_MAGIC,
  WHY,
} from './protocol.js';

/** One entry of {@link goferList}. */
export interface GoferDirEntry {
  name: string;
  type: (typeof ENTRY_TYPE)[number];
}

/** What {@link goferStat} returns (symlinks followed, inside the root). */
export interface GoferStat {
  type: 'file' | 'directory' | 'symlink' | 'other';
  /** Permission bits (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  size: number;
  mtimeMs: number;
}

/** Bytes a client may hand to {@link goferWrite}. */
export type GoferData = string | Uint8Array | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

// sun_path holds 107 bytes; longer socket paths are reached through a directory fd (as the gofer bound them).
const SUN_PATH_MAX = 107;
// Pause reading from the socket when this much is buffered and not yet consumed.
const HIGH_WATER = 1 << 20;

interface Target {
  root: string;
  id: string;
  path: string;
  what: string;
}

function notRunning(t: Target, cause?: unknown): GoferError {
  return new GoferError(
    'sys',
    `the gofer of container "${t.id}" is not running (it exited): files inside cannot be reached; delete the container`,
    { cause },
  );
}

/** The error for an errno the gofer answered. */
function fromErrno(t: Target, errno: number): GoferError {
  const name = errnoName(errno);
  const p = t.path;
  switch (name) {
    case 'EXDEV':
      return new GoferError('bad_config', `path "${p}" leaves the container's rootfs: refused`);
    case 'ELOOP':
      return new GoferError(
        'bad_config',
        `path "${p}" loops through symlinks, crosses a /proc magic link, or ends in a symlink that leads nowhere: refused`,
      );
    case 'ENOENT':
      return new GoferError('not_found', `path "${p}" does not exist in container "${t.id}": check the path`);
    case 'ENOTDIR':
      return new GoferError('not_found', `path "${p}" in container "${t.id}" goes through something that is not a directory: check the path`);
    case 'EISDIR':
      return new GoferError('bad_config', `path "${p}" in container "${t.id}" is a directory: name a file`);
    case 'EEXIST':
      return new GoferError('exists', `path "${p}" already exists in container "${t.id}"`);
    case 'EINVAL':
      return new GoferError('bad_config', `path "${p}" in container "${t.id}" is not a regular file: only regular files can be copied`);
    case 'EROFS':
      return new GoferError('sys', `cannot ${t.what} "${p}": container "${t.id}" has a read-only filesystem there`);
    case 'EACCES':
    case 'EPERM':
      return new GoferError('sys', `cannot ${t.what} "${p}" in container "${t.id}": permission denied (${name})`);
    default:
      return new GoferError('sys', `cannot ${t.what} "${p}" in container "${t.id}": ${name}`);
  }
}

/** The error for a refusal (RTG_REFUSED): what the path leads to is not served. */
function refused(t: Target, why: number, detail: bigint): GoferError {
  const n = Number(detail);
  const words =
    why === WHY.fs
      ? `it is on ${PSEUDO_FS[n] ?? `a filesystem the gofer does not serve (type 0x${n.toString(16)})`}`
      : why === WHY.kernelPath
        ? `it is under ${KERNEL_DIR[n] ?? '/proc or /sys'} (the kernel's state, not the container's files)`
        : why === WHY.type
          ? `it is ${FILE_TYPE[n] ?? 'not a regular file'}`
          : `the gofer refuses it (reason ${why})`;
  return new GoferError(
    'bad_config',
    `cannot ${t.what} "${t.path}" in container "${t.id}": ${words}; the gofer serves only the regular files and directories of the container's own filesystems`,
    { why: words },
  );
}

/** A connected socket with exact-length reads (and backpressure both ways). */
class Conn {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly sock: net.Socket,
    private readonly target: Target,
  ) {
    sock.on('data', (b: Buffer) => {
      this.chunks.push(b);
      this.buffered += b.length;
      if (this.buffered > HIGH_WATER) sock.pause();
      this.notify();
    });
    sock.on('end', () => {
      this.ended = true;
      this.notify();
    });
    sock.on('error', (e) => {
      this.failure = e;
      this.notify();
    });
    sock.on('close', () => {
      this.ended = true;
      this.notify();
    });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private midAnswer(cause?: unknown): GoferError {
    return new GoferError(
      'sys',
      `the gofer of container "${this.target.id}" closed the connection in the middle of ${this.target.what} "${this.target.path}" (it exited?): retry, or delete the container`,
      { cause },
    );
  }

  async read(n: number): Promise<Buffer> {
    while (this.buffered < n) {
      if (this.failure) throw this.midAnswer(this.failure);
      if (this.ended) throw this.midAnswer();
      this.sock.resume();
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    if (this.buffered <= HIGH_WATER) this.sock.resume();
    return out;
  }

  async u32(): Promise<number> {
    return (await this.read(4)).readUInt32LE(0);
  }

  async i32(): Promise<number> {
    return (await this.read(4)).readInt32LE(0);
  }

  async write(buf: Buffer): Promise<void> {
    if (this.failure) throw this.midAnswer(this.failure);
    if (this.sock.write(buf)) return;
    await new Promise<void>((resolve, reject) => {
      const done = (e?: Error) => {
        this.sock.off('drain', onDrain);
        this.sock.off('close', onClose);
        if (e) reject(this.midAnswer(e));
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(this.failure ?? new Error('closed'));
      this.sock.on('drain', onDrain);
      this.sock.on('close', onClose);
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

async function connect(t: Target): Promise<Conn> {
  const socketPath = goferSocketPath(t.root, t.id);
  let dirFd: number | undefined;
  let path = socketPath;
  try {
    if (Buffer.byteLength(socketPath) > SUN_PATH_MAX) {
      dirFd = openSync(dirname(socketPath), 'r');
      path = `/proc/self/fd/${dirFd}/${basename(socketPath)}`;
    }
    const sock = process.getBuiltinModule('node:net').createConnection(path);
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    sock.removeAllListeners('error');
    return new Conn(sock, t);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // No socket (no state dir) or nobody listening on it (the gofer died; the file outlives it).
    if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTDIR') throw notRunning(t, e);
    throw new GoferError('sys', `cannot reach the gofer of container "${t.id}" at ${socketPath}: ${code ?? String(e)}`, { cause: e });
  } finally {
    if (dirFd !== undefined) closeSync(dirFd);
  }
}

/** Connects, sends the request header and reads the status; the connection is returned for the payload. */
async function request(t: Target, op: number, mode = 0): Promise<Conn> {
  const pathBytes = Buffer.from(t.path, 'utf8');
  if (pathBytes.length > MAX_PATH || t.path.includes('\0')) {
    throw new GoferError('bad_config', `path "${t.path.slice(0, 80)}…" is longer than ${MAX_PATH} bytes or holds a NUL byte: refused`);
  }
  const conn = await connect(t);
  try {
    const head = Buffer.alloc(16);
    head.writeUInt32LE(REQUEST_MAGIC, 0);
    head.writeUInt32LE(op, 4);
    head.writeUInt32LE(mode, 8);
    head.writeUInt32LE(pathBytes.length, 12);
    await conn.write(Buffer.concat([head, pathBytes]));
    const status = await conn.i32();
    if (status === REFUSED) {
      const b = await conn.read(16);
      throw refused(t, b.readUInt32LE(0), b.readBigUInt64LE(8));
    }
    if (status !== 0) throw fromErrno(t, status);
    return conn;
  } catch (e) {
    conn.close();
    throw e;
  }
}

/** Reads READ/LIST frames until the end frame. */
async function* frames(conn: Conn, t: Target): AsyncGenerator<Buffer> {
  for (;;) {
    const len = await conn.u32();
    if (len === 0) return;
    if (len === FRAME_ERROR) throw fromErrno(t, await conn.i32());
    yield await conn.read(len);
  }
}

/**
 * Streams a regular file out of the container, chunk by chunk (no size limit in memory), up to the size it had when
 * the gofer opened it (a file that keeps growing ends there).
 * @throws GoferError: bad_config for a path that leaves the rootfs, or that the gofer refuses (`why` set: not a
 * regular file, on a pseudo filesystem such as procfs or sysfs, under the container's /proc or /sys), not_found, or
 * sys when the gofer is not running.
 * @example await pipeline(Readable.from(goferReadStream(root, id, '/var/log/app.log')), createWriteStream('app.log'));
 */
export async function* goferReadStream(root: string, id: string, path: string): AsyncGenerator<Buffer> {
  const t = { root, id, path, what: 'read' };
  const conn = await request(t, OP.read);
  try {
    yield* frames(conn, t);
  } finally {
    conn.close();
  }
}

/** Reads a whole regular file of the container. Errors as {@link goferReadStream}. */
export async function goferRead(root: string, id: string, path: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of goferReadStream(root, id, path)) parts.push(chunk);
  return Buffer.concat(parts);
}

/**
 * Writes a regular file inside the container (created with `mode`, default 0o644, or truncated), streaming the
 * data in frames of at most 1 MiB.
 * @throws GoferError as {@link goferReadStream}; sys (EROFS) for a read-only rootfs.
 */
export async function goferWrite(root: string, id: string, path: string, data: GoferData, opts: { mode?: number } = {}): Promise<void> {
  const t = { root, id, path, what: 'write' };
  const conn = await request(t, OP.write, opts.mode ?? 0o644);
  try {
    const source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string> =
      typeof data === 'string' || data instanceof Uint8Array ? [data] : data;
    for await (const piece of source) {
      const buf = typeof piece === 'string' ? Buffer.from(piece) : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      for (let at = 0; at < buf.length; at += MAX_FRAME) {
        const part = buf.subarray(at, at + MAX_FRAME);
        const len = Buffer.alloc(4);
        len.writeUInt32LE(part.length, 0);
        await conn.write(Buffer.concat([len, part]));
      }
    }
    await conn.write(Buffer.alloc(4)); // the end frame
    const status = await conn.i32();
    if (status !== 0) throw fromErrno(t, status);
  } finally {
    conn.close();
  }
}

/** Lists a directory of the container (without "." and ".."); symlinks are listed, not followed. */
export async function goferList(root: string, id: string, path: string): Promise<GoferDirEntry[]> {
  const t = { root, id, path, what: 'list' };
  const conn = await request(t, OP.list);
  try {
    const out: GoferDirEntry[] = [];
    for await (const f of frames(conn, t)) out.push({ type: ENTRY_TYPE[f[0]] ?? 'other', name: f.subarray(1).toString('utf8') });
    return out;
  } finally {
    conn.close();
  }
}

const S_IFMT = 0o170000;

/** stat(2) of a path inside the container (a final symlink is followed, beneath the root). */
export async function goferStat(root: string, id: string, path: string): Promise<GoferStat> {
  const t = { root, id, path, what: 'stat' };
  const conn = await request(t, OP.stat);
  try {
    const b = await conn.read(40);
    const rawMode = b.readUInt32LE(0);
    const fmt = rawMode & S_IFMT;
    return {
      type: fmt === 0o100000 ? 'file' : fmt === 0o040000 ? 'directory' : fmt === 0o120000 ? 'symlink' : 'other',
      mode: rawMode & 0o7777,
      uid: b.readUInt32LE(4),
      gid: b.readUInt32LE(8),
      nlink: b.readUInt32LE(12),
      size: Number(b.readBigUInt64LE(16)),
      mtimeMs: Number(b.readBigInt64LE(24)) * 1000 + Math.floor(b.readUInt32LE(32) / 1e6),
    };
  } finally {
    conn.close();
  }
}

/** mkdir inside the container (the parent must exist). @throws GoferError exists when it is there already. */
export async function goferMkdir(root: string, id: string, path: string, mode = 0o755): Promise<void> {
  const t = { root, id, path, what: 'create directory' };
  const conn = await request(t, OP.mkdir, mode);
  conn.close();
}

/**
 * The pid of the gofer listening on the container's socket (as the runtime's pid namespace numbers it), or null
 * when no gofer answers. For a teardown that lost the recorded pid (runts killed during create).
 */
export async function goferPidFromSocket(root: string, id: string): Promise<number | null> {
  const t = { root, id, path: '/', what: 'ask the pid of' };
  let conn: Conn;
  try {
    conn = await request(t, OP.pid);
  } catch (e) {
    if (e instanceof GoferError && e.code === 'sys') return null;
    throw e;
  }
  try {
    return await conn.u32();
  } catch {
    return null;
  } finally {
    conn.close();
  }
}
