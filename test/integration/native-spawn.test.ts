// Real containers from hand-written plans (root only): namespaces, cgroup join, pivot_root, the exec fifo,
// user namespaces, the console socket, signal and fd hygiene, and clean failure.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  capMask,
  CLONE,
  makedev,
  MS,
  nativeAddonBuilt,
  NativeSpawnError,
  nativePort,
  PlanBuilder,
  RLIMIT,
  S_IFCHR,
} from '../../src/native/index.js';

const MEMORY_V1 = '/sys/fs/cgroup/memory';
const skip =
  process.getuid?.() !== 0
    ? 'needs root'
    : !nativeAddonBuilt()
      ? 'addon not built (npm run build:native)'
      : !fs.existsSync(path.join(MEMORY_V1, 'cgroup.procs'))
        ? 'needs the cgroup v1 memory hierarchy'
        : false;

const ENV = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'];
const TIMEOUT = 20_000;

describe('native spawn (real containers)', { skip }, () => {
  const port = nativePort();
  let tmp = '';
  let rootfs = '';
  let cgroup = '';
  const live = new Set<number>(); // spawned and not yet reaped: killed in after()
  const fds = new Set<number>();

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-native-'));
    rootfs = path.join(tmp, 'rootfs');
    execFileSync(fileURLToPath(new URL('../../scripts/make-rootfs.sh', import.meta.url)), [rootfs]);
    fs.mkdirSync(path.join(rootfs, 'secret'));
    fs.writeFileSync(path.join(rootfs, 'secret', 'file'), 'hidden');
    cgroup = path.join(MEMORY_V1, `runts-test-${randomBytes(4).toString('hex')}`);
    fs.mkdirSync(cgroup);
  });

  after(async () => {
    for (const pid of live) {
      try {
        process.kill(pid, 'SIGKILL');
        port.waitPid(pid);
      } catch {
        // already gone
      }
    }
    for (const fd of fds) {
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
    }
    // A cgroup can be removed only once its last task is fully gone; that may lag the reap briefly.
    for (let i = 0; i < 50 && cgroup && fs.existsSync(cgroup); i++) {
      try {
        fs.rmdirSync(cgroup);
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function spawn(plan: PlanBuilder): Promise<{ pid: number; pidfd: number }> {
    const r = await port.spawn(plan);
    live.add(r.pid);
    if (r.pidfd >= 0) fds.add(r.pidfd);
    return r;
  }

  /** Waits (bounded) for exit, then reaps. */
  async function reap(r: { pid: number; pidfd: number }): Promise<{ exitCode: number | null; signal: number | null }> {
    assert.equal(await port.pidfdWaitAsync(r.pidfd, 10_000), true, 'container process did not exit in time');
    const status = await port.waitPidAsync(r.pid);
    live.delete(r.pid);
    return status;
  }

  function start(fifo: string): void {
    const fd = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    try {
      fs.writeSync(fd, '0');
    } finally {
      fs.closeSync(fd);
    }
  }

  function newFifo(): string {
    const fifo = path.join(tmp, `exec-${randomBytes(4).toString('hex')}.fifo`);
    port.mkfifo(fifo, 0o600);
    return fifo;
  }

  const out = (name: string): string => path.join(rootfs, 'tmp', name);
  const read = (name: string): string => fs.readFileSync(out(name), 'utf8');

  /**
   * Stage-1: join the cgroup, unshare, fork. Init: private /, rootfs bind, /proc, a tmpfs /dev with
   * null/zero, fifo, and `middle` before pivot_root; `inside` after it.
   */
  function containerPlan(o: {
    fifo: string;
    hostname?: string;
    header?: ConstructorParameters<typeof PlanBuilder>[0];
    stage1?: (p: PlanBuilder) => void;
    middle?: (p: PlanBuilder) => void;
    inside?: (p: PlanBuilder) => void;
    dev?: boolean;
  }): PlanBuilder {
    const p = new PlanBuilder(o.header);
    if (o.stage1) o.stage1(p);
    else p.writeFile(path.join(cgroup, 'cgroup.procs'), '0');
    p.unshare(CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWPID)
      .fork()
      .mount('', '/', '', MS.REC | MS.PRIVATE, '')
      .mount(rootfs, rootfs, '', MS.BIND | MS.REC, '')
      .mount('proc', path.join(rootfs, 'proc'), 'proc', MS.NOSUID | MS.NODEV | MS.NOEXEC, '');
    if (o.dev !== false) {
      const dev = path.join(rootfs, 'dev');
      p.mount('tmpfs', dev, 'tmpfs', MS.NOSUID | MS.STRICTATIME, 'mode=755,size=65536k')
        .mknod(path.join(dev, 'null'), S_IFCHR | 0o666, makedev(1, 3))
        .chmod(path.join(dev, 'null'), 0o666)
        .mknod(path.join(dev, 'zero'), S_IFCHR | 0o666, makedev(1, 5))
        .chmod(path.join(dev, 'zero'), 0o666);
    }
    p.openFifo(o.fifo);
    o.middle?.(p);
    p.pivotRoot(rootfs).sethostname(o.hostname ?? 'runts-box');
    o.inside?.(p);
    return p;
  }

  it('blocks until start, then runs as pid 1 with its hostname, in the cgroup', { timeout: TIMEOUT }, async () => {
    const fifo = newFifo();
    const script = [
      'echo $$ $(hostname) > /tmp/out',
      'ls /proc/self/fd > /tmp/fds',
      'ls /proc > /tmp/procs',
      'cat /proc/cpuinfo | wc -c > /tmp/masked-file',
      'ls -A /secret | wc -l > /tmp/masked-dir',
      'grep " /proc/sys " /proc/mounts > /tmp/sysmount',
      'exit 7',
    ].join('; ');
    const plan = containerPlan({
      fifo,
      inside: (p) =>
        p
          .maskPath('/proc/cpuinfo')
          .maskPath('/secret')
          .maskPath('/no/such/path')
          .readonlyPath('/proc/sys')
          .dup2(2, 50) // an inheritable fd (no FD_CLOEXEC) that closeFds must stop
          .closeFds(3)
          .checkExec('/bin/sh', ENV)
          .ready()
          .waitFifo()
          .exec('/bin/sh', ['sh', '-c', script], ENV),
    });
    const r = await spawn(plan);
    assert.ok(r.pid > 0 && r.pidfd >= 0);

    // Created, not started: blocked in the fifo read, already set up.
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(fs.existsSync(out('out')), false, 'the process ran before start');
    assert.equal(port.pidfdWait(r.pidfd, 0), false);
    const procs = fs.readFileSync(path.join(cgroup, 'cgroup.procs'), 'utf8').split('\n');
    assert.ok(procs.includes(String(r.pid)), `init ${r.pid} not in ${cgroup}: ${procs.join(' ')}`);
    assert.notEqual(fs.readlinkSync(`/proc/${r.pid}/ns/pid`), fs.readlinkSync('/proc/self/ns/pid'));
    // Node ignores SIGPIPE and blocks signals in threads: none of it may reach the container.
    const status = fs.readFileSync(`/proc/${r.pid}/status`, 'utf8');
    assert.match(status, /^SigIgn:\s+0000000000000000$/m);
    assert.match(status, /^SigBlk:\s+0000000000000000$/m);

    start(fifo);
    assert.deepEqual(await reap(r), { pid: r.pid, exitCode: 7, signal: null });
    assert.equal(read('out').trim(), '1 runts-box');
    assert.deepEqual(read('fds').trim().split(/\s+/), ['0', '1', '2', '3']);
    const pids = read('procs').split(/\s+/).filter((e) => /^\d+$/.test(e));
    assert.ok(pids.includes('1') && pids.length <= 4, `unexpected pids in the container: ${pids.join(' ')}`);
    assert.equal(read('masked-file').trim(), '0', 'a masked file reads as /dev/null');
    assert.equal(read('masked-dir').trim(), '0', 'a masked directory is an empty tmpfs');
    assert.ok(fs.existsSync(path.join(rootfs, 'secret', 'file')), 'masking must not touch the host');
    assert.match(read('sysmount'), /\bro\b/, '/proc/sys is read-only');
    assert.ok(!fs.readFileSync(path.join(cgroup, 'cgroup.procs'), 'utf8').includes(String(r.pid)));
  });

  it('the waiting init is forked from runts-init, not from a copy of Node', { timeout: TIMEOUT }, async () => {
    const fifo = newFifo();
    const r = await spawn(containerPlan({ fifo, inside: (p) => p.closeFds(3).ready().waitFifo().exec('/bin/true', ['true'], ENV) }));
    const vmPte = (pid: number | 'self') => Number(/^VmPTE:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
    // Stage 1 execs the small static program built beside the addon; the init it forks keeps that image until
    // its own exec, so it holds no copy of Node's memory and page tables.
    assert.equal(fs.readlinkSync(`/proc/${r.pid}/exe`), fileURLToPath(new URL('../../build/Release/runts-init', import.meta.url)));
    assert.ok(vmPte(r.pid) * 2 < vmPte('self'), `init page tables ${vmPte(r.pid)} kB vs Node's ${vmPte('self')} kB`);
    start(fifo);
    assert.equal((await reap(r)).exitCode, 0);
  });

  it('a gated spawn waits at its gate until opened; a cancelled gate ends it with nothing left', { timeout: TIMEOUT }, async () => {
    const before = children();
    const gatedPlan = (fifo: string) =>
      containerPlan({ fifo, stage1: (p) => p.gate().writeFile(path.join(cgroup, 'cgroup.procs'), '0'), inside: (p) => p.closeFds(3).ready().waitFifo().exec('/bin/true', ['true'], ENV) });

    const fifo = newFifo();
    const gated = port.spawnGated(gatedPlan(fifo));
    let settled = false;
    void gated.done.then(() => (settled = true), () => (settled = true));
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(settled, false, 'the spawn went on before the gate opened');
    assert.equal(fs.readFileSync(path.join(cgroup, 'cgroup.procs'), 'utf8').trim(), '', 'stage 1 joined the cgroup before the gate');
    gated.open();
    const r = await gated.done;
    live.add(r.pid);
    fds.add(r.pidfd);
    start(fifo);
    assert.equal((await reap(r)).exitCode, 0);

    const cancelled = port.spawnGated(gatedPlan(newFifo()));
    cancelled.cancel();
    await assert.rejects(cancelled.done, (e: unknown) => e instanceof NativeSpawnError && e.operation === 'gate' && e.errnoName === 'ECANCELED');
    assert.deepEqual(children(), before, 'a child was left behind');
  });

  it('spawns while every libuv pool thread is held (foreground runs and exec waits hold one each)', { timeout: TIMEOUT }, async () => {
    // Each wait holds a pool thread until its timeout: our own pidfd never becomes readable while we run.
    const self = port.pidfdOpen(process.pid);
    let waitsOver = false;
    const holders = Array.from({ length: Number(process.env.UV_THREADPOOL_SIZE ?? 4) }, () => port.pidfdWaitAsync(self, 3000));
    const held = Promise.all(holders).then(() => (waitsOver = true));
    try {
      const r = await spawn(new PlanBuilder().fork().ready().exec('/bin/true', ['true'], ENV));
      assert.equal(waitsOver, false, 'the spawn waited for a pool thread');
      assert.equal((await reap(r)).exitCode, 0);
    } finally {
      await held;
      port.closeFd(self);
    }
  });

  it('without closeFds an inheritable fd leaks (control for the test above); no fork: the first process runs', { timeout: TIMEOUT }, async () => {
    const file = path.join(tmp, 'fds-control');
    const r = await spawn(
      new PlanBuilder().dup2(2, 50).ready().exec('/bin/sh', ['sh', '-c', `ls /proc/self/fd > ${file}`], ENV),
    );
    assert.equal((await reap(r)).exitCode, 0);
    assert.ok(fs.readFileSync(file, 'utf8').split(/\s+/).includes('50'));
  });

  it('a failing op reports operation, errno and path, and leaves no process behind', { timeout: TIMEOUT }, async () => {
    const before = children();
    const fifo = newFifo();
    const missing = path.join(rootfs, 'no-such-dir', 'mnt');
    const plan = containerPlan({
      fifo,
      middle: (p) => p.mount('tmpfs', missing, 'tmpfs', 0, ''),
      inside: (p) => p.ready().waitFifo().exec('/bin/true', ['true'], ENV),
    });
    await assert.rejects(
      () => spawn(plan),
      (e: unknown) => {
        assert.ok(e instanceof NativeSpawnError, String(e));
        assert.equal(e.operation, 'mount');
        assert.equal(e.errnoName, 'ENOENT');
        assert.equal(e.path, missing);
        assert.equal(e.code, 'sys');
        assert.equal(e.message, `mount ${missing}: ENOENT (no such file or directory)`);
        return true;
      },
    );
    assert.equal(fs.readFileSync(path.join(cgroup, 'cgroup.procs'), 'utf8').trim(), '', 'a process survived');
    // Both stage-1 and the init were reaped: no child (not even a zombie) is left.
    assert.deepEqual(children(), before);
  });

  it('after rootfsOpen, path ops take container paths resolved inside the rootfs (symlinks cannot lead out)', { timeout: TIMEOUT }, async () => {
    // An absolute symlink climbing with "..": it means <rootfs><target>, never the host's <target>.
    const target = path.join(tmp, `inside-${randomBytes(4).toString('hex')}`);
    fs.symlinkSync(`/../../..${target}`, path.join(rootfs, 'abs'));
    fs.mkdirSync(path.join(rootfs, target), { recursive: true });
    // /proc is mounted in the rootfs by then: /proc/self/root is a magic link, refused.
    const escape = path.join(tmp, `host-${randomBytes(4).toString('hex')}`);
    fs.symlinkSync(`/proc/self/root${escape}`, path.join(rootfs, 'esc'));
    try {
      const r = await spawn(
        containerPlan({
          fifo: newFifo(),
          middle: (p) =>
            p
              .rootfsOpen(rootfs)
              .mkdirP('/abs/d/e')
              .mount('tmpfs', '/abs/d', 'tmpfs', 0, 'mode=700')
              .mkfile('/abs/f', 0o644)
              .chmod('/abs/f', 0o600)
              .mknod('/abs/sub/null', S_IFCHR | 0o666, makedev(1, 3))
              .symlink('/nowhere', '/abs/l')
              .chown('/abs/l', 7, 8),
          inside: (p) => p.ready().exec('/bin/sh', ['sh', '-c', `grep -c " ${target}/d " /proc/self/mountinfo > /tmp/mnt`], ENV),
        }),
      );
      assert.equal((await reap(r)).exitCode, 0);
      assert.equal(fs.existsSync(target), false, 'nothing made on the host');
      const inside = path.join(rootfs, target);
      assert.ok(fs.statSync(path.join(inside, 'd', 'e')).isDirectory());
      assert.equal(fs.statSync(path.join(inside, 'f')).mode & 0o777, 0o600);
      assert.ok(fs.statSync(path.join(inside, 'sub', 'null')).isCharacterDevice());
      const link = fs.lstatSync(path.join(inside, 'l'));
      assert.deepEqual([link.isSymbolicLink(), link.uid, link.gid], [true, 7, 8]);
      assert.equal(read('mnt').trim(), '1', 'the tmpfs is mounted on the directory inside the rootfs');

      await assert.rejects(
        () => spawn(containerPlan({ fifo: newFifo(), middle: (p) => p.rootfsOpen(rootfs).mknod('/esc/null', S_IFCHR | 0o666, makedev(1, 3)), inside: (p) => p.ready() })),
        (e: unknown) => e instanceof NativeSpawnError && e.operation === 'mknod' && e.errnoName === 'ELOOP' && e.path === '/esc/null',
      );
      assert.equal(fs.existsSync(escape), false, 'nothing made on the host');
    } finally {
      fs.rmSync(path.join(rootfs, 'abs'), { force: true });
      fs.rmSync(path.join(rootfs, 'esc'), { force: true });
      fs.rmSync(path.join(rootfs, target), { recursive: true, force: true });
    }
  });

  it('writeFile under /proc refuses (EXDEV) a file that is not on the real procfs', { timeout: TIMEOUT }, async () => {
    const plan = containerPlan({
      fifo: newFifo(),
      inside: (p) =>
        p
          .mount('tmpfs', '/proc/sys', 'tmpfs', 0, '')
          .mkfile('/proc/sys/fake', 0o644)
          .writeFile('/proc/sys/fake', '1')
          .ready(),
    });
    await assert.rejects(
      () => spawn(plan),
      (e: unknown) => e instanceof NativeSpawnError && e.operation === 'writeFile' && e.errnoName === 'EXDEV' && e.path === '/proc/sys/fake',
    );
  });

  it('checkExec fails create for a missing or non-executable binary, naming it', { timeout: TIMEOUT }, async () => {
    const before = children();
    for (const [bin, errno] of [
      ['/bin/nope', 'ENOENT'],
      ['nope', 'ENOENT'],
      ['/etc/passwd', 'EACCES'],
    ] as const) {
      const plan = containerPlan({
        fifo: newFifo(),
        inside: (p) => p.checkExec(bin, ENV).ready().waitFifo().exec(bin, [bin], ENV),
      });
      await assert.rejects(
        () => spawn(plan),
        (e: unknown) => e instanceof NativeSpawnError && e.operation === 'checkExec' && e.errnoName === errno && e.path === bin,
      );
    }
    assert.deepEqual(children(), before, 'a child was left behind');
  });

  it('a plan without ready fails instead of hanging, and reaps its child', { timeout: TIMEOUT }, async () => {
    const before = children();
    await assert.rejects(() => spawn(new PlanBuilder().exec('/bin/true', ['true'], ENV)), /exited before it was ready/);
    assert.deepEqual(children(), before, 'a child was left behind');
  });

  it('maps ids in a user namespace: root inside is uid 100000 outside', { timeout: TIMEOUT }, async () => {
    const fifo = newFifo();
    const plan = containerPlan({
      fifo,
      header: { uidMap: '0 100000 65536', gidMap: '0 100000 65536' },
      // No cgroup join here: the v1 hierarchy is not delegated to the mapped root.
      stage1: (p) => p.unshare(CLONE.NEWUSER).usernsSync(),
      dev: false, // mknod is refused in a user namespace
      inside: (p) =>
        p
          .setIds(0, 0, null)
          .closeFds(3)
          .ready()
          .waitFifo()
          .exec('/bin/sh', ['sh', '-c', 'id -u > /tmp/uid; id -g >> /tmp/uid; cat /proc/self/uid_map > /tmp/map'], ENV),
    });
    const r = await spawn(plan);
    const hostStatus = fs.readFileSync(`/proc/${r.pid}/status`, 'utf8');
    assert.match(hostStatus, /^Uid:\s+100000\s+100000\s+100000\s+100000$/m);
    start(fifo);
    assert.equal((await reap(r)).exitCode, 0);
    assert.deepEqual(read('uid').trim().split('\n'), ['0', '0']);
    assert.match(read('map'), /^\s*0\s+100000\s+65536\s*$/);
  });

  it('reports a bad id map as a usernsSync failure', { timeout: TIMEOUT }, async () => {
    const before = children();
    const plan = new PlanBuilder({ uidMap: 'garbage' }).unshare(CLONE.NEWUSER).usernsSync().ready();
    await assert.rejects(
      () => spawn(plan),
      (e: unknown) => e instanceof NativeSpawnError && e.operation === 'usernsSync' && /uid_map$/.test(e.path ?? ''),
    );
    assert.deepEqual(children(), before, 'a child was left behind');
  });

  it('sets up a console: the master fd arrives over the socket and reads the output', { timeout: TIMEOUT }, async () => {
    const fifo = newFifo();
    const sock = path.join(tmp, 'console.sock');
    const masterP = port.recvFdAsync(sock, 10_000); // listening before spawn connects
    const plan = containerPlan({
      fifo,
      middle: (p) =>
        p
          .mkdirP(path.join(rootfs, 'dev/pts'))
          .mount('devpts', path.join(rootfs, 'dev/pts'), 'devpts', MS.NOSUID | MS.NOEXEC, 'newinstance,ptmxmode=0666,mode=0620')
          .symlink('pts/ptmx', path.join(rootfs, 'dev/ptmx'))
          .consoleConnect(sock),
      inside: (p) =>
        p
          .consoleSetup()
          .closeFds(3)
          .ready()
          .waitFifo()
          .exec('/bin/sh', ['sh', '-c', 'echo hello-from-tty; tty; [ -t 0 ] && echo stdin-is-tty'], ENV),
    });
    const r = await spawn(plan);
    const master = await masterP;
    fds.add(master);
    start(fifo);
    const text = await readPty(master, 10_000);
    assert.equal((await reap(r)).exitCode, 0);
    assert.match(text, /hello-from-tty\r\n/);
    assert.match(text, /^\/dev\/pts\/0\r$/m);
    assert.match(text, /stdin-is-tty/);
  });

  it('applies ids, groups, capabilities, rlimits, umask, cwd, no_new_privs and seccomp', { timeout: TIMEOUT }, async () => {
    const fifo = newFifo();
    const caps = capMask(['CAP_CHOWN', 'CAP_KILL']);
    // x86_64 only: mkdir (83) and mkdirat (258) fail with EPERM, everything else is allowed. Without an
    // arch check this filter is for the test only.
    const x64 = process.arch === 'x64';
    const bpf = Buffer.alloc(5 * 8);
    const insn = (i: number, code: number, jt: number, jf: number, k: number): void => {
      bpf.writeUInt16LE(code, i * 8);
      bpf.writeUInt8(jt, i * 8 + 2);
      bpf.writeUInt8(jf, i * 8 + 3);
      bpf.writeUInt32LE(k, i * 8 + 4);
    };
    insn(0, 0x20, 0, 0, 0); // ld [nr]
    insn(1, 0x15, 2, 0, 83); // jeq mkdir → deny
    insn(2, 0x15, 1, 0, 258); // jeq mkdirat → deny
    insn(3, 0x06, 0, 0, 0x7fff0000); // ret ALLOW
    insn(4, 0x06, 0, 0, 0x00050000 | 1); // ret ERRNO(EPERM)
    const script = [
      'grep -E "^(Uid|Gid|Groups|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status > /tmp/st',
      'echo nofile=$(ulimit -n) >> /tmp/st',
      'echo cwd=$(pwd) >> /tmp/st',
      'echo umask=$(umask) >> /tmp/st',
      'mkdir /tmp/d 2>/dev/null; echo mkdir=$? >> /tmp/st',
    ].join('; ');
    const plan = containerPlan({
      fifo,
      inside: (p) => {
        p.setrlimit(RLIMIT.RLIMIT_NOFILE, 1000n, 1000n).umask(0o027).chdir('/tmp').setIds(1000, 1000, [1000, 2000]);
        p.caps({ bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: caps }).noNewPrivs();
        if (x64) p.seccomp(bpf);
        p.closeFds(3).ready().waitFifo().exec('/bin/sh', ['sh', '-c', script], ENV);
      },
    });
    const r = await spawn(plan);
    start(fifo);
    assert.equal((await reap(r)).exitCode, 0);
    const st = read('st');
    assert.match(st, /^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
    assert.match(st, /^Gid:\s+1000\s+1000\s+1000\s+1000$/m);
    assert.match(st, /^Groups:\s+1000 2000\s*$/m);
    assert.match(st, /^CapBnd:\s+0000000000000021$/m);
    assert.match(st, /^CapEff:\s+0000000000000021$/m, 'ambient caps survive exec for a non-root uid');
    assert.match(st, /^CapAmb:\s+0000000000000021$/m);
    assert.match(st, /^NoNewPrivs:\s+1$/m);
    assert.match(st, /^nofile=1000$/m);
    assert.match(st, /^cwd=\/tmp$/m);
    assert.match(st, /^umask=0027$/m);
    if (x64) {
      assert.match(st, /^Seccomp:\s+2$/m);
      assert.match(st, /^mkdir=1$/m);
    }
  });

  it('signals and waits through a pidfd', { timeout: TIMEOUT }, async () => {
    const fifo = newFifo();
    const r = await spawn(
      containerPlan({ fifo, inside: (p) => p.closeFds(3).ready().waitFifo().exec('/bin/sleep', ['sleep', '100'], ENV) }),
    );
    start(fifo);
    assert.equal(await port.pidfdWaitAsync(r.pidfd, 100), false, 'sleep exited early');
    port.pidfdSendSignal(r.pidfd, 9);
    assert.deepEqual(await reap(r), { pid: r.pid, exitCode: null, signal: 9 });
  });
});

/**
 * Our children (zombies included) across all threads. waitPid(-1) cannot be used to check for leftovers:
 * tsx keeps an esbuild child running.
 */
function children(): number[] {
  const out: number[] = [];
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      out.push(...fs.readFileSync(`/proc/self/task/${tid}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
    } catch {
      // thread exited meanwhile
    }
  }
  return out.sort((a, b) => a - b);
}

/** Reads a pty master until the slave side closes (EIO) or the deadline passes. */
async function readPty(fd: number, timeoutMs: number): Promise<string> {
  const chunks: Buffer[] = [];
  const deadline = Date.now() + timeoutMs;
  const buf = Buffer.alloc(4096);
  while (Date.now() < deadline) {
    try {
      const n = await new Promise<number>((resolve, reject) =>
        fs.read(fd, buf, 0, buf.length, null, (err, bytes) => (err ? reject(err) : resolve(bytes))),
      );
      if (n === 0) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EIO') break; // all slave fds closed: the process is done
      throw e;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}
