import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

import { CAPABILITIES, capMask, CLONE, decodePlan, makedev, MS, nativeAddonBuilt, NativeError, nativePort, NativeSpawnError, PLAN_MAGIC, PLAN_VERSION, PlanBuilder, PlanError, RLIM_INFINITY, RLIMIT } from '../../src/native/index.js';
import { FakeSyscallPort } from '../helpers/fake-port.js';

/** A plan using every op once, with awkward values (empty strings, UTF-8, u64 max, NUL-containing blobs). */
function everyOp(): PlanBuilder {
  return new PlanBuilder({ uidMap: '0 100000 65536', gidMap: '0 100000 65536\n', setgroups: 'deny', uidMapper: '/usr/bin/newuidmap', gidMapper: '/usr/bin/newgidmap' })
    .writeFile('/sys/fs/cgroup/memory/x/cgroup.procs', '0')
    .setns('/proc/1/ns/net', CLONE.NEWNET)
    .unshare(CLONE.NEWNS | CLONE.NEWPID | CLONE.NEWUSER)
    .usernsSync()
    .fork()
    .mount('', '/', '', MS.REC | MS.PRIVATE, '')
    .mount('tmpfs', '/r/dev', 'tmpfs', MS.NOSUID | MS.STRICTATIME, 'mode=755,size=65536k')
    .mkdirP('/r/dev/pts')
    .mkfile('/r/etc/hosts', 0o600)
    .mknod('/r/dev/null', 0o20666, makedev(1, 3))
    .symlink('/proc/self/fd', '/r/dev/fd')
    .chown('/r/dev/pts', 0, 5)
    .chmod('/r/tmp', 0o1777)
    .rootfsOpen('/r')
    .chroot('/r')
    .mountSetattr('/data', 1, 0)
    .sourceOpen('/srv/data', true)
    .mountSource(0, '/data')
    .mkdirP('/dev/pts')
    .pivotRoot('/r')
    .maskPath('/proc/kcore')
    .readonlyPath('/proc/sys')
    .remountReadonly('/')
    .sethostname('héllo')
    .setdomainname('')
    .setrlimit(RLIMIT.RLIMIT_NOFILE, 1024n, RLIM_INFINITY)
    .chdir('/home/ü')
    .umask(0o022)
    .setsid()
    .setIds(1000, 1001, [1001, 2000, 0xfffffffe])
    .setIds(0, 0, null)
    .caps({ bounding: capMask(['CAP_CHOWN', 'CAP_CHECKPOINT_RESTORE']), effective: 0n, permitted: 1n, inheritable: 0n, ambient: 0n })
    .noNewPrivs()
    .seccomp(Buffer.from([6, 0, 0, 0, 0, 0, 0xff, 0x7f]))
    .openFifo('/run/runts/x/exec.fifo')
    .consoleConnect('/tmp/console.sock')
    .consoleSetup()
    .closeFds(3)
    .dup2(5, 5)
    .ready()
    .waitFifo()
    .checkExec('sh', ['PATH=/bin', ''])
    .exec('sh', ['sh', '-c', 'echo "$X"', ''], [])
    .goferPrepare('/run/runts/x/gofer.sock', '/opt/runts/build/Release/runts-gofer')
    .spawnGofer('/bundles/x/rootfs')
    .gate()
    .cgroupOpen('/sys/fs/cgroup/pids/x/cgroup.procs')
    .cgroupJoin();
}

describe('plan encoding', () => {
  it('round-trips every op through encode/decode', () => {
    const plan = everyOp();
    const buf = plan.encode();
    assert.equal(buf.readUInt32LE(0), PLAN_MAGIC);
    assert.equal(buf.readUInt32LE(8), plan.ops.length);
    assert.equal(buf.length % 8, 0, 'records are 8-byte multiples');
    const decoded = decodePlan(buf);
    assert.deepEqual(decoded.header, { uidMap: '0 100000 65536', gidMap: '0 100000 65536\n', setgroups: 'deny', uidMapper: '/usr/bin/newuidmap', gidMapper: '/usr/bin/newgidmap' });
    assert.deepEqual(decoded.ops, plan.ops);
    // Every op name appears: guards against an op silently missing from the table.
    assert.equal(new Set(decoded.ops.map((o) => o.op)).size, 45);
  });

  it('keeps setIds groups null distinct from an empty list', () => {
    const ops = decodePlan(new PlanBuilder().setIds(1, 2, null).setIds(1, 2, []).encode()).ops;
    assert.deepEqual(ops, [
      { op: 'setIds', uid: 1, gid: 2, groups: null },
      { op: 'setIds', uid: 1, gid: 2, groups: [] },
    ]);
  });

  it('encodes an empty plan and header', () => {
    const buf = new PlanBuilder().encode();
    assert.equal(buf.length, 16 + 5 * 16);
    assert.deepEqual(decodePlan(buf), { header: {}, ops: [] });
  });

  it('refuses values the wire cannot carry', () => {
    assert.throws(() => new PlanBuilder().exec('/bin/sh', ['a\0b'], []).encode(), PlanError);
    assert.throws(() => new PlanBuilder().exec('/bin/sh', ['sh'], Array(1025).fill('A=1')).encode(), /1024/);
    assert.throws(() => new PlanBuilder().setrlimit(7, -1n, 0n).encode(), PlanError);
    assert.throws(() => new PlanBuilder().umask(1.5).encode(), PlanError);
    assert.throws(() => new PlanBuilder().setIds(0, 0, [-1]).encode(), PlanError);
    const e = (() => {
      try {
        new PlanBuilder().exec('/bin/sh', ['a\0b'], []).encode();
      } catch (err) {
        return err;
      }
    })();
    assert.ok(e instanceof PlanError);
    assert.equal(e.code, 'bad_config');
  });

  it('decodePlan rejects truncated, foreign and padded buffers', () => {
    const buf = everyOp().encode();
    assert.throws(() => decodePlan(buf.subarray(0, buf.length - 8)), PlanError);
    const bad = Buffer.from(buf);
    bad.writeUInt32LE(0xdeadbeef, 0);
    assert.throws(() => decodePlan(bad), /magic/);
    assert.throws(() => decodePlan(Buffer.concat([buf, Buffer.alloc(8)])), /trailing/);
  });
});

describe('constants', () => {
  it('numbers capabilities, rlimits and devices like the kernel', () => {
    assert.equal(CAPABILITIES.CAP_CHOWN, 0);
    assert.equal(CAPABILITIES.CAP_SYS_ADMIN, 21);
    assert.equal(CAPABILITIES.CAP_CHECKPOINT_RESTORE, 40);
    assert.equal(capMask(['CAP_CHOWN', 'CAP_KILL']), 0x21n);
    assert.throws(() => capMask(['CAP_NOPE']), PlanError);
    assert.equal(RLIMIT.RLIMIT_NOFILE, 7);
    assert.equal(makedev(1, 3), 0x103);
    assert.equal(makedev(136, 300), 1083436); // glibc makedev, checked with a C program
    assert.equal(makedev(5000, 70000), 17592472537200);
    assert.equal(MS.BIND | MS.REC, 0x5000);
    assert.equal(CLONE.NEWUSER, 0x10000000);
  });
});

describe('FakeSyscallPort', () => {
  it('records decoded plans and simulates exits', async () => {
    const port = new FakeSyscallPort();
    const { pid, pidfd } = await port.spawn(new PlanBuilder().fork().ready());
    assert.deepEqual(
      port.spawns[0]?.ops.map((o) => o.op),
      ['fork', 'ready'],
    );
    assert.equal(port.pidfdWait(pidfd, 0), false);
    assert.deepEqual(port.waitPid(pid, 1), { pid: 0, exitCode: null, signal: null });
    const waited = port.waitPidAsync(pid);
    port.pidfdSendSignal(pidfd, 15);
    port.exit(pid, { signal: 15 });
    assert.deepEqual(await waited, { pid, exitCode: null, signal: 15 });
    assert.equal(await port.pidfdWaitAsync(pidfd, 10), true);
    assert.deepEqual(port.signals, [{ pid, signal: 15 }]);
    assert.deepEqual(
      port.calls.map((c) => c.method),
      ['spawn', 'pidfdWait', 'waitPid', 'waitPidAsync', 'pidfdSendSignal', 'pidfdWaitAsync'],
    );
  });

  it('gives a plan with spawnGofer a gofer pid (after the init\'s)', async () => {
    const port = new FakeSyscallPort();
    const plain = await port.spawn(new PlanBuilder().fork().ready());
    assert.equal(plain.goferPid, 0);
    const withGofer = await port.spawn(new PlanBuilder().goferPrepare('/s', '/g').spawnGofer('/r').fork().ready());
    assert.equal(withGofer.goferPid, withGofer.pid + 1);
    assert.equal(port.spawns[1]?.goferPid, withGofer.goferPid);
  });

  it('rejects with the configured spawn failure once', async () => {
    const port = new FakeSyscallPort();
    port.failSpawn = new Error('boom');
    await assert.rejects(port.spawn(new PlanBuilder()), /boom/);
    await assert.doesNotReject(port.spawn(new PlanBuilder()));
  });

  it('settles a gated spawn once its gate is opened, and fails it once the gate is cancelled', async () => {
    const port = new FakeSyscallPort();
    const opened = port.spawnGated(new PlanBuilder().gate().fork().ready());
    opened.open();
    assert.ok((await opened.done).pid > 0);
    const cancelled = port.spawnGated(new PlanBuilder().gate().fork().ready());
    cancelled.cancel();
    await assert.rejects(cancelled.done, (e: unknown) => e instanceof NativeSpawnError && e.operation === 'gate');
    assert.deepEqual(port.calls.map((c) => c.method), ['spawnGated', 'spawnGated']);
  });
});

describe('addon plan validation', { skip: nativeAddonBuilt() ? false : 'addon not built (npm run build:native)' }, () => {
  const port = nativePort();
  const valid = everyOp().encode();

  async function refuses(buf: Buffer, pattern: RegExp): Promise<void> {
    await assert.rejects(port.spawn(buf), (e: unknown) => e instanceof PlanError && pattern.test(e.message));
  }

  it('refuses every truncation of a valid plan (no crash, no child)', async () => {
    for (let len = 0; len < valid.length; len++) await refuses(valid.subarray(0, len), /invalid spawn plan/);
  });

  it('refuses corrupt headers, op codes, counts, padding and strings', async () => {
    const patched = (buf: Buffer, f: (x: Buffer) => void): Buffer => {
      const x = Buffer.from(buf);
      f(x);
      return x;
    };
    await refuses(patched(valid, (x) => x.writeUInt32LE(0x12345678, 0)), /magic/);
    await refuses(patched(valid, (x) => x.writeUInt32LE(PLAN_VERSION + 1, 4)), /version/);
    await refuses(patched(valid, (x) => x.writeUInt32LE(1 << 20, 8)), /too many ops/);
    // With an empty header the first op starts at 16 + 5 * 16 = 96: u32 code, u16 nums, u16 strs.
    const umask = new PlanBuilder().umask(0o22).encode();
    await refuses(patched(umask, (x) => x.writeUInt32LE(999, 96)), /unknown op code 999/);
    await refuses(patched(umask, (x) => x.writeUInt16LE(2, 100)), /wrong argument counts/);
    await refuses(Buffer.concat([umask, Buffer.alloc(8)]), /trailing/);
    // chdir('abc'): string record at 104 (u32 len, u32 reserved), payload "abc\0" + padding at 112.
    const chdir = new PlanBuilder().chdir('abc').encode();
    assert.equal(chdir.toString('latin1', 112, 115), 'abc');
    await refuses(patched(chdir, (x) => (x[113] = 0)), /NUL byte/);
    await refuses(patched(chdir, (x) => (x[117] = 1)), /zero-padded/);
    await refuses(patched(chdir, (x) => x.writeUInt32LE(1, 108)), /reserved/);
    await refuses(patched(chdir, (x) => x.writeUInt32LE(4000, 104)), /runs past the end/);
    await refuses(new PlanBuilder().fork().fork().encode(), /more than one fork/);
    // Stage 1 becomes the gofer at the fork: a gofer needs one after it.
    await refuses(new PlanBuilder().spawnGofer('/').ready().encode(), /spawnGofer: needs a fork op after it/);
    await refuses(new PlanBuilder().fork().spawnGofer('/').ready().encode(), /spawnGofer: only one, and before the fork/);
    const cgroups = new PlanBuilder();
    for (let i = 0; i < 65; i++) cgroups.cgroupOpen(`/sys/fs/cgroup/h${i}/cgroup.procs`);
    await refuses(cgroups.encode(), /more than 64 cgroupOpen/);
    await refuses(new PlanBuilder().chdir('/' + 'a'.repeat(5000)).encode(), /longer than 4095/);
    await refuses(new PlanBuilder().seccomp(Buffer.alloc(12)).encode(), /seccomp/);
    // setgroups is the third header string: its payload starts at 16 + 16 + 16 + 8 = 56.
    await refuses(patched(new PlanBuilder({ setgroups: 'deny' }).encode(), (x) => x.write('nope', 56)), /setgroups/);
    // uidMapper is the fourth: its payload starts at 16 + 3 * 16 + 8 = 72; a relative helper is refused.
    await refuses(patched(new PlanBuilder({ uidMapper: '/usr/bin/newuidmap' }).encode(), (x) => x.write('u', 72)), /absolute/);
  });

  it('rejects a non-Buffer plan with a TypeError', async () => {
    await assert.rejects(port.spawn('nope' as unknown as Buffer), TypeError);
  });
});

describe('addon helpers', { skip: nativeAddonBuilt() ? false : 'addon not built (npm run build:native)' }, () => {
  const port = nativePort();

  it('turns errno failures into NativeError with the errno name', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-native-unit-'));
    try {
      assert.throws(() => port.pidfdOpen(0x3ffffff0), (e: unknown) => e instanceof NativeError && e.errnoName === 'ESRCH');
      assert.throws(() => port.waitPid(0x3ffffff0), (e: unknown) => e instanceof NativeError && e.errnoName === 'ECHILD');
      const sock = path.join(dir, 'sock');
      assert.throws(() => port.recvFd(sock, 20), (e: unknown) => e instanceof NativeError && e.errnoName === 'ETIMEDOUT');
      await assert.rejects(port.recvFdAsync(sock, 20), (e: unknown) => e instanceof NativeError && e.syscall === 'accept');
      assert.equal(fs.existsSync(sock), false, 'the socket file is removed');
      const fifo = path.join(dir, 'fifo');
      port.mkfifo(fifo, 0o600);
      assert.ok(fs.statSync(fifo).isFIFO());
      assert.throws(() => port.mkfifo(fifo, 0o600), (e: unknown) => e instanceof NativeError && e.errnoName === 'EEXIST' && e.path === fifo);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes an fd over a unix socket (sendFd → recvFdAsync)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-native-unit-'));
    const client = { socket: undefined as net.Socket | undefined };
    const opened: number[] = [];
    try {
      const sock = path.join(dir, 'sock');
      const file = path.join(dir, 'payload');
      fs.writeFileSync(file, 'passed along');
      const received = port.recvFdAsync(sock, 5000);
      client.socket = net.createConnection(sock);
      await once(client.socket, 'connect');
      // The connected socket's fd: Node exposes it only on the internal handle.
      const socketFd = (client.socket as unknown as { _handle: { fd: number } })._handle.fd;
      const fd = fs.openSync(file, 'r');
      opened.push(fd);
      port.sendFd(socketFd, fd);
      const got = await received;
      opened.push(got);
      assert.notEqual(got, fd);
      assert.equal(fs.readFileSync(got, 'utf8'), 'passed along');
    } finally {
      client.socket?.destroy();
      for (const fd of opened) port.closeFd(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
