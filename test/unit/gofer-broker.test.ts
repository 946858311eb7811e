// The real runts-gofer binary, started by hand on a plain directory (no container, no root needed, no mounts):
// its in-root creation of mount points, its report, and the broker behind the TypeScript client — path refusals,
// streaming, errors, and what a client sees once the gofer is killed.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  appendFileSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import { eventually } from '../helpers/runts.js';

import { nativeAddonBuilt, NativeSpawnError, nativePort, PlanBuilder } from '../../src/native/index.js';
import {
  GoferError,
  goferBinaryPath,
  goferBuilt,
  goferList,
  goferMkdir,
  goferPidFromSocket,
  goferRead,
  goferReadStream,
  goferSocketPath,
  goferStat,
  goferWrite,
} from '../../src/gofer/index.js';

const skip = goferBuilt() ? false : 'gofer not built (npm run build:native)';

interface Started {
  child: ChildProcess;
  /** Resolves once fd 4 closed: the gofer closes it when it serves, or exits. */
  settled: Promise<void>;
}

/**
 * Starts the gofer as stage-1 would: fd 3 the listening socket (moved to socketPath), 4 a pipe (where stage-1 gives it
 * /dev/null: the gofer closes it once it serves, which tells the test so), 5 its root, 6, when given, the directory
 * whose removal ends it, and 7 a procfs that shows it (the host's /proc).
 */
async function startGofer(dir: string, root: string, socketPath: string, stateDirFd?: number): Promise<Started> {
  const rootFd = openSync(root, 'r');
  const tmpSock = join(dir, `s-${Math.random().toString(36).slice(2)}`);
  const server = net.createServer();
  server.listen(tmpSock);
  await once(server, 'listening');
  const serverFd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  const procFd = openSync('/proc', 'r');
  const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'ignore', 'ignore', serverFd, 'pipe', rootFd, stateDirFd ?? 'ignore', procFd];
  const child = spawn(goferBinaryPath(), [], { stdio });
  closeSync(rootFd);
  closeSync(procFd);
  // Node unlinks a listening socket's path when it closes the server: move the path away first, the child keeps
  // the socket itself.
  renameSync(tmpSock, socketPath);
  server.close();
  const pipe = child.stdio[4] as Readable;
  pipe.resume();
  const settled = once(pipe, 'close').then(() => undefined);
  return { child, settled };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

function refusal(path: string) {
  return (e: unknown) =>
    e instanceof GoferError && e.code === 'bad_config' && e.message === `path "${path}" leaves the container's rootfs: refused`;
}

describe('runts-gofer broker (real binary, no container)', { skip, timeout: 60_000 }, () => {
  let dir = '';
  let root = '';
  let stateRoot = '';
  let outside = '';
  let gofer: Started | undefined;
  const id = 'c1';
  const children: ChildProcess[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'runts-gofer-broker-'));
    root = join(dir, 'root');
    outside = join(dir, 'outside');
    stateRoot = join(dir, 'state');
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(join(root, 'sub'), { recursive: true });
    mkdirSync(outside);
    mkdirSync(join(stateRoot, id), { recursive: true });
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
    writeFileSync(join(outside, 'secret'), 'host secret');
    symlinkSync('/', join(root, 'link')); // absolute, to the root
    symlinkSync('../..', join(root, 'sub/up')); // relative, climbing out
    symlinkSync(outside, join(root, 'abs-outside')); // absolute, to a host directory
    symlinkSync('etc', join(root, 'inner')); // relative, staying inside
    execFileSync('mkfifo', [join(root, 'fifo')]);
    gofer = await startGofer(dir, root, goferSocketPath(stateRoot, id));
    children.push(gofer.child);
    await gofer.settled;
  });

  after(async () => {
    for (const c of children) await kill(c);
    rmSync(dir, { recursive: true, force: true });
  });

  it('closes fd 4 once it serves, and goes on serving', () => {
    assert.equal(gofer!.child.exitCode, null, 'still running');
  });

  it('writes, reads back, stats, lists and makes directories', async () => {
    await goferWrite(stateRoot, id, '/sub/hello.txt', 'hi there\n', { mode: 0o640 });
    assert.equal(readFileSync(join(root, 'sub/hello.txt'), 'utf8'), 'hi there\n');
    assert.equal((await goferRead(stateRoot, id, 'sub/hello.txt')).toString(), 'hi there\n');
    const st = await goferStat(stateRoot, id, '/sub/hello.txt');
    assert.deepEqual([st.type, st.mode, st.size], ['file', 0o640, 9]);
    assert.equal((await goferStat(stateRoot, id, '/')).type, 'directory');
    const entries = await goferList(stateRoot, id, '/');
    const byName = Object.fromEntries(entries.map((e) => [e.name, e.type]));
    assert.equal(byName.etc, 'directory');
    assert.equal(byName.link, 'symlink');
    assert.equal(byName.fifo, 'other');
    assert.equal(byName['.'], undefined);
    await goferMkdir(stateRoot, id, '/sub/newdir', 0o700);
    assert.equal(lstatSync(join(root, 'sub/newdir')).mode & 0o7777, 0o700);
    await assert.rejects(goferMkdir(stateRoot, id, '/sub/newdir'), (e: unknown) => e instanceof GoferError && e.code === 'exists');
    // A symlink that stays inside is followed.
    assert.match((await goferRead(stateRoot, id, '/inner/passwd')).toString(), /^root:/);
  });

  it('streams files larger than a frame both ways', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    async function* pieces() {
      for (let at = 0; at < big.length; at += 700_000) yield big.subarray(at, at + 700_000);
    }
    await goferWrite(stateRoot, id, '/sub/big', pieces());
    assert.ok(readFileSync(join(root, 'sub/big')).equals(big));
    assert.ok((await goferRead(stateRoot, id, '/sub/big')).equals(big));
  });

  it('refuses "..", absolute escapes and symlinks that lead out', async () => {
    for (const p of ['../outside/secret', '/../outside/secret', 'sub/../../outside/secret', '/link/etc/passwd', '/sub/up/outside/secret', `/abs-outside/secret`]) {
      await assert.rejects(goferRead(stateRoot, id, p), refusal(p), p);
    }
    await assert.rejects(goferWrite(stateRoot, id, '/sub/up/outside/planted', 'x'), refusal('/sub/up/outside/planted'));
    await assert.rejects(goferList(stateRoot, id, '/link'), refusal('/link'));
    await assert.rejects(goferMkdir(stateRoot, id, '/../planted'), refusal('/../planted'));
    assert.equal(existsSync(join(outside, 'planted')), false);
    assert.equal(existsSync(join(dir, 'planted')), false);
  });

  it('answers missing paths, directories and special files with clear errors, without blocking on a fifo', async () => {
    await assert.rejects(goferRead(stateRoot, id, '/nope'), (e: unknown) => e instanceof GoferError && e.code === 'not_found' && /"\/nope" does not exist in container "c1"/.test(e.message));
    await assert.rejects(goferRead(stateRoot, id, '/etc'), /is a directory: name a file/);
    const fifo = (what: string) => (e: unknown) =>
      e instanceof GoferError &&
      e.code === 'bad_config' &&
      e.why === 'it is a fifo' &&
      e.message === `cannot ${what} "/fifo" in container "c1": it is a fifo; the gofer serves only the regular files and directories of the container's own filesystems`;
    await assert.rejects(goferRead(stateRoot, id, '/fifo'), fifo('read'));
    await assert.rejects(goferWrite(stateRoot, id, '/fifo', 'x'), fifo('write'));
    await assert.rejects(goferList(stateRoot, id, '/etc/passwd'), (e: unknown) => e instanceof GoferError && e.code === 'not_found');
  });

  it('reads a file that keeps growing only up to the size it had when opened', async () => {
    const size = 16 * 1024 * 1024;
    writeFileSync(join(root, 'sub/growing'), Buffer.alloc(size, 1));
    let total = 0;
    let appended = false;
    for await (const chunk of goferReadStream(stateRoot, id, '/sub/growing')) {
      total += chunk.length;
      // The gofer is at most the socket's and the client's buffers ahead (about 2 MiB): far from the end.
      if (!appended) appendFileSync(join(root, 'sub/growing'), Buffer.alloc(4 * 1024 * 1024, 2));
      appended = true;
    }
    assert.equal(total, size);
  });

  it('does not write through a final symlink that leads nowhere', async () => {
    symlinkSync('made-by-link', join(root, 'sub/dangling'));
    await assert.rejects(goferWrite(stateRoot, id, '/sub/dangling', 'x'), (e: unknown) => e instanceof GoferError && /ends in a symlink that leads nowhere/.test(e.message));
    assert.equal(existsSync(join(root, 'sub/made-by-link')), false);
  });

  it('serves nothing under the root\'s proc and sys, by name or through a link, even when they are plain directories', async () => {
    mkdirSync(join(root, 'proc/1'), { recursive: true });
    mkdirSync(join(root, 'sys'), { recursive: true });
    writeFileSync(join(root, 'proc/1/environ'), 'SECRET=1');
    symlinkSync('../proc/1', join(root, 'sub/to-proc'));
    const proc = (e: unknown) => e instanceof GoferError && e.code === 'bad_config' && e.why === "it is under /proc (the kernel's state, not the container's files)";
    const sys = (e: unknown) => e instanceof GoferError && e.code === 'bad_config' && e.why === "it is under /sys (the kernel's state, not the container's files)";
    await assert.rejects(goferRead(stateRoot, id, '/proc/1/environ'), proc);
    await assert.rejects(goferRead(stateRoot, id, 'sub/../proc/1/environ'), proc);
    await assert.rejects(goferRead(stateRoot, id, '/sub/to-proc/environ'), proc);
    await assert.rejects(goferList(stateRoot, id, '/sub/to-proc'), proc);
    await assert.rejects(goferStat(stateRoot, id, '/proc'), proc);
    await assert.rejects(goferWrite(stateRoot, id, '/sub/to-proc/planted', 'x'), proc);
    await assert.rejects(goferMkdir(stateRoot, id, '/sys/planted'), sys);
    await assert.rejects(goferList(stateRoot, id, '/sys'), sys);
    assert.equal(existsSync(join(root, 'proc/1/planted')), false);
    assert.equal(existsSync(join(root, 'sys/planted')), false);
    // Names that only start alike are served.
    writeFileSync(join(root, 'sub/procedure'), 'ok');
    mkdirSync(join(root, 'system'), { recursive: true });
    assert.equal((await goferRead(stateRoot, id, '/sub/procedure')).toString(), 'ok');
    assert.deepEqual(await goferList(stateRoot, id, '/system'), []);
  });

  it('serves concurrent clients one after the other and survives a client that hangs up', async () => {
    const raw = net.createConnection(goferSocketPath(stateRoot, id));
    await once(raw, 'connect');
    raw.destroy(); // gone before sending anything
    const reads = await Promise.all(Array.from({ length: 8 }, () => goferRead(stateRoot, id, '/etc/passwd')));
    for (const r of reads) assert.match(r.toString(), /^root:/);
  });

  it('exits when its root is not a directory (status 4: the step that failed)', async () => {
    const sock = join(stateRoot, 'bad.sock');
    const bad = await startGofer(dir, join(root, 'etc/passwd'), sock);
    children.push(bad.child);
    const [code] = bad.child.exitCode !== null ? [bad.child.exitCode] : await once(bad.child, 'exit');
    assert.equal(code, 4);
  });

  it('exits by itself once the directory on fd 6 (the container\'s state directory) is removed', { timeout: 15_000 }, async () => {
    const watched = join(dir, 'watched-state-dir');
    mkdirSync(watched);
    const dirFd = openSync(watched, 'r');
    const sock = join(stateRoot, 'self', 'gofer.sock');
    mkdirSync(join(stateRoot, 'self'));
    let started: Started;
    try {
      started = await startGofer(dir, root, sock, dirFd);
    } finally {
      closeSync(dirFd);
    }
    children.push(started.child);
    await started.settled;
    assert.match((await goferRead(stateRoot, 'self', '/etc/passwd')).toString(), /^root:/, 'serving while it exists');
    rmSync(watched, { recursive: true });
    // The check runs between requests (and every 10 s when idle): this request is the last one served.
    await goferRead(stateRoot, 'self', '/etc/passwd');
    const [code, signal] = await once(started.child, 'exit');
    assert.deepEqual([code, signal], [0, null]);
    await assert.rejects(goferRead(stateRoot, 'self', '/etc/passwd'), /gofer of container "self" is not running/);
  });

  it('ignores SIGTERM and SIGPIPE; after SIGKILL every call fails with "not running"', async () => {
    const child = gofer!.child;
    assert.equal(await goferPidFromSocket(stateRoot, id), child.pid, 'it tells its pid');
    child.kill('SIGTERM');
    child.kill('SIGPIPE');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await goferRead(stateRoot, id, '/etc/passwd')).length > 0, true, 'still serving');
    await kill(child);
    const notRunning = (e: unknown) =>
      e instanceof GoferError &&
      e.code === 'sys' &&
      e.message === 'the gofer of container "c1" is not running (it exited): files inside cannot be reached; delete the container';
    await assert.rejects(goferRead(stateRoot, id, '/etc/passwd'), notRunning);
    await assert.rejects(goferWrite(stateRoot, id, '/x', 'x'), notRunning);
    await assert.rejects(goferList(stateRoot, 'no-such-container', '/'), /gofer of container "no-such-container" is not running/);
    assert.equal(await goferPidFromSocket(stateRoot, id), null);
  });
});

describe('the addon starts the gofer (spawnGofer without a container)', { skip: skip || (nativeAddonBuilt() ? false : 'addon not built'), timeout: 60_000 }, () => {
  const port = nativePort();
  let dir = '';
  const started: number[] = [];

  before(() => (dir = mkdtempSync(join(tmpdir(), 'runts-gofer-spawn-'))));
  after(() => {
    for (const pid of started) {
      try {
        process.kill(pid, 'SIGKILL');
        port.waitPid(pid);
      } catch {
        // gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** Our children (or zombies) that are gofers. */
  function goferChildren(): number[] {
    return readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .filter((n) => {
        try {
          const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
          return stat.includes('(runts-gofer)') && Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
        } catch {
          return false;
        }
      })
      .map(Number)
      .filter((pid) => !started.includes(pid));
  }

  /** A plan with no namespaces: the gofer's root is "/" as it is. Stage 1 becomes the gofer at the fork. */
  function plan(socketPath: string, root = '/', binary = goferBinaryPath()): PlanBuilder {
    return new PlanBuilder().goferPrepare(socketPath, binary).spawnGofer(root).fork().ready();
  }

  it('binds a socket path longer than sun_path allows and serves through it', async () => {
    // <dir>/state/<long id>/gofer.sock is well over 107 bytes.
    const id = `c-${'x'.repeat(120)}`;
    const stateRoot = join(dir, 'state');
    mkdirSync(join(stateRoot, id), { recursive: true });
    const socketPath = goferSocketPath(stateRoot, id);
    assert.ok(Buffer.byteLength(socketPath) > 107);
    writeFileSync(join(dir, 'note'), 'through a long path');
    const r = await port.spawn(plan(socketPath));
    started.push(r.pid, r.goferPid);
    port.waitPid(r.pid); // the init ends with the plan
    assert.ok(r.goferPid > 0 && r.goferPid !== r.pid);
    assert.equal(readFileSync(`/proc/${r.goferPid}/comm`, 'utf8').trim(), 'runts-init', 'stage 1 waits for the first connection');
    assert.equal((await goferRead(stateRoot, id, join(dir, 'note'))).toString(), 'through a long path');
    assert.equal(readFileSync(`/proc/${r.goferPid}/comm`, 'utf8').trim(), 'runts-gofer', 'that connection started the gofer');
    // Once it is idle again: the client may read the last byte before the gofer has closed what it served with.
    const fds = () => readdirSync(`/proc/${r.goferPid}/fd`).map(Number).sort((a, b) => a - b);
    const idle = [0, 1, 2, 3, 5, 6, 7];
    await eventually(() => JSON.stringify(fds()) === JSON.stringify(idle), 2000);
    assert.deepEqual(fds(), idle, 'stdio, socket, root, state dir and its own /proc/self/fd only: no leaked descriptor');
  });

  it('turns a root that is not a directory into a NativeSpawnError naming it, and starts no gofer', async () => {
    const bad = join(dir, 'plainfile');
    writeFileSync(bad, '');
    mkdirSync(join(dir, 's2'));
    await assert.rejects(
      () => port.spawn(plan(join(dir, 's2', 'gofer.sock'), bad)),
      (e: unknown) => e instanceof NativeSpawnError && e.operation === 'spawnGofer' && e.errnoName === 'ENOTDIR' && e.path === bad,
    );
    assert.deepEqual(goferChildren(), [], 'the failed gofer was killed and reaped');
  });

  it('names the binary when it cannot be found', async () => {
    mkdirSync(join(dir, 's3'));
    const missing = join(dir, 'no-such-gofer');
    await assert.rejects(
      () => port.spawn(plan(join(dir, 's3', 'gofer.sock'), '/', missing)),
      (e: unknown) => e instanceof NativeSpawnError && e.operation === 'goferPrepare' && e.errnoName === 'ENOENT' && e.path === missing,
    );
  });
});
