// Real containers, as root: each container's gofer — where it lives (the container's mount namespace, not its pid
// namespace nor its cgroup, the rootfs as its root), mounts through symlinks that land inside the rootfs, the file
// broker behind the client, and what happens when it is killed.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { GoferError, goferBuilt, goferList, goferRead, goferStat, goferWrite, isGoferAlive, stopGofer } from '../../src/gofer/index.js';
import { nativePort } from '../../src/native/index.js';
import { Store } from '../../src/persistence/store.js';
import { Sandbox, addUserNamespace, assertNoLeftovers, cgroupHierarchies, eventually, isRoot } from '../helpers/runts.js';

const skip = !isRoot ? 'needs root: real containers' : !goferBuilt() ? 'gofer not built (npm run build:native)' : false;

/** The container's stored facts (the gofer's pid and start time are recorded at create). */
function factsOf(sb: Sandbox, id: string): { goferPid: number; goferStartTime?: number | null; initPid: number; id: string } {
  const store = Store.open(sb.root, nativePort());
  try {
    const rec = store.get(id);
    assert.ok(rec, `container ${id} is stored`);
    return rec.facts as ReturnType<typeof factsOf>;
  } finally {
    store.close();
  }
}

function refused(path: string) {
  return (e: unknown) =>
    e instanceof GoferError && e.code === 'bad_config' && e.message === `path "${path}" leaves the container's rootfs: refused`;
}

function notRunning(id: string) {
  return (e: unknown) =>
    e instanceof GoferError &&
    e.code === 'sys' &&
    e.message === `the gofer of container "${id}" is not running (it exited): files inside cannot be reached; delete the container`;
}

/** Mount points of a process (mountinfo field 5), for checks from the host. */
function mountPoints(pid: number): string[] {
  return readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' ')[4]);
}

describe('the gofer of a real container', { skip }, () => {
  let sb: Sandbox;
  // Gofers this file saw, killed in after() should a test fail before delete could.
  const gofers = new Set<number>();
  const hostName = `runts-gofer-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  before(() => (sb = new Sandbox()));
  after(() => {
    try {
      sb.cleanup();
    } finally {
      for (const pid of gofers) {
        try {
          // The gofer, or stage 1 still waiting to become it.
          if (['runts-gofer', 'runts-init'].includes(readFileSync(`/proc/${pid}/comm`, 'utf8').trim())) process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  });

  /** Creates (and starts, unless told not to) a sleeping container; returns its id, bundle, init and gofer pids. */
  function container(name: string, edit: Parameters<Sandbox['bundle']>[1] = () => undefined, opts: { start?: boolean; prepare?: (rootfs: string) => void } = {}) {
    const id = sb.id(name);
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['/bin/sleep', '1000'];
      edit(s);
    });
    const rootfs = join(bundle, 'rootfs');
    writeFileSync(join(rootfs, 'marker'), `rootfs of ${id}\n`);
    opts.prepare?.(rootfs);
    const created = sb.runts(['create', '--bundle', bundle, id]);
    assert.equal(created.status, 0, created.stderr);
    if (opts.start !== false) assert.equal(sb.runts(['start', id]).status, 0);
    const facts = factsOf(sb, id);
    gofers.add(facts.goferPid);
    return { id, bundle, rootfs, init: facts.initPid, gofer: facts.goferPid, facts };
  }

  test('after create the gofer runs in the container\'s mount namespace, outside its pid namespace and cgroup, rooted in the rootfs', async () => {
    const c = container('where', undefined, { start: false });
    assert.ok(c.gofer > 0, 'the gofer pid is recorded');
    assert.equal(typeof c.facts.goferStartTime, 'number', 'with its start time');
    assert.ok(isGoferAlive(c.facts, nativePort()), 'alive');
    // Until its first connection it is stage 1 waiting, with no capability but the two the gofer starts with and the
    // gofer's signals ignored; that connection makes it the gofer (same pid, same start time).
    const waiting = readFileSync(`/proc/${c.gofer}/status`, 'utf8');
    assert.equal(readFileSync(`/proc/${c.gofer}/comm`, 'utf8').trim(), 'runts-init');
    assert.equal(waiting.match(/^CapEff:\s+(\S+)$/m)?.[1], '0000000000000102', 'CAP_DAC_OVERRIDE and CAP_SETPCAP only');
    assert.equal(waiting.match(/^CapBnd:\s+(\S+)$/m)?.[1], '0000000000000102');
    const ignored = BigInt(`0x${waiting.match(/^SigIgn:\s+(\S+)$/m)![1]}`);
    for (const sig of [1, 2, 13, 15]) assert.equal((ignored >> BigInt(sig - 1)) & 1n, 1n, `signal ${sig} ignored`);
    await goferStat(sb.root, c.id, '/');
    assert.equal(readFileSync(`/proc/${c.gofer}/comm`, 'utf8').trim(), 'runts-gofer');
    assert.ok(isGoferAlive(c.facts, nativePort()), 'the same process');
    assert.equal(readlinkSync(`/proc/${c.gofer}/ns/mnt`), readlinkSync(`/proc/${c.init}/ns/mnt`), 'same mount namespace as the init');
    assert.notEqual(readlinkSync(`/proc/${c.gofer}/ns/mnt`), readlinkSync('/proc/self/ns/mnt'));
    assert.notEqual(readlinkSync(`/proc/${c.gofer}/ns/pid`), readlinkSync(`/proc/${c.init}/ns/pid`), 'not in the container\'s pid namespace');
    assert.equal(readlinkSync(`/proc/${c.gofer}/ns/pid`), readlinkSync('/proc/self/ns/pid'));
    assert.equal(readFileSync(`/proc/${c.gofer}/root/marker`, 'utf8'), `rootfs of ${c.id}\n`, 'its root is the rootfs (pivot_root moved it)');
    // Not in the container's cgroup: ps and kill --all never see it.
    for (const h of cgroupHierarchies()) {
      const procs = join(h, sb.cgroupParent, c.id, 'cgroup.procs');
      if (!existsSync(procs)) continue;
      const pids = readFileSync(procs, 'utf8').trim().split('\n').map(Number);
      assert.ok(pids.includes(c.init), `the init is in ${procs}`);
      assert.equal(pids.includes(c.gofer), false, `the gofer is not in ${procs}`);
    }
    const ps = sb.runts(['ps', '--format', 'json', c.id]);
    assert.equal(ps.status, 0, ps.stderr);
    assert.equal((JSON.parse(ps.stdout) as number[]).includes(c.gofer), false, 'runts ps does not list it');
    // The container cannot see it either.
    assert.equal(readFileSync(`/proc/${c.gofer}/status`, 'utf8').match(/^NSpid:\s+(.*)$/m)?.[1].trim(), String(c.gofer), 'one pid: no namespaced one');
  });

  test('a mount whose destination goes through a symlink to /etc lands in the rootfs\'s etc, never the host\'s', async () => {
    assert.equal(existsSync(join('/etc', hostName)), false, 'precondition: the host has no such entry');
    const hostDir = join(sb.dir, 'bind-source');
    mkdirSync(hostDir, { recursive: true });
    writeFileSync(join(hostDir, 'from-host'), 'bound\n');
    const c = container(
      'symlinked',
      (s) => {
        s.mounts = [
          ...(s.mounts ?? []),
          { destination: `/evil/${hostName}`, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m'] },
          { destination: `/evil2/${hostName}-bind`, type: 'bind', source: hostDir, options: ['rbind', 'ro'] },
        ];
        s.process!.args = ['/bin/sh', '-c', `echo inside > /etc/${hostName}/probe; exec sleep 1000`];
      },
      {
        prepare: (rootfs) => {
          symlinkSync('/etc', join(rootfs, 'evil'));
          symlinkSync('/etc/', join(rootfs, 'evil2'));
        },
      },
    );
    assert.equal(existsSync(join('/etc', hostName)), false, 'nothing appeared in the host\'s /etc');
    assert.equal(existsSync(join('/etc', `${hostName}-bind`)), false);
    // Seen from the container: the tmpfs and the bind are mounted on the rootfs's etc.
    const points = mountPoints(c.init);
    assert.ok(points.includes(`/etc/${hostName}`), `tmpfs at /etc/${hostName} in ${points.join(' ')}`);
    assert.ok(points.includes(`/etc/${hostName}-bind`));
    assert.equal(readFileSync(`/proc/${c.init}/root/etc/${hostName}-bind/from-host`, 'utf8'), 'bound\n');
    assert.ok(await eventually(() => existsSync(`/proc/${c.init}/root/etc/${hostName}/probe`)), 'the process wrote into the tmpfs at /etc/<name>');
    // The mount point directory was made in the rootfs (the tmpfs itself is only in the container's namespace).
    assert.ok(existsSync(join(c.rootfs, 'etc', hostName)));
    assert.equal(existsSync(join(c.rootfs, 'etc', hostName, 'probe')), false, 'the probe is in the tmpfs, not the rootfs');
  });

  test('the client writes, reads, stats and lists files inside the container', async () => {
    const c = container('files');
    await goferWrite(sb.root, c.id, '/tmp/hello.txt', 'hello from the host\n', { mode: 0o600 });
    assert.equal(readFileSync(`/proc/${c.init}/root/tmp/hello.txt`, 'utf8'), 'hello from the host\n', 'the container sees it');
    assert.equal((await goferRead(sb.root, c.id, '/tmp/hello.txt')).toString(), 'hello from the host\n');
    assert.equal((await goferRead(sb.root, c.id, '/marker')).toString(), `rootfs of ${c.id}\n`);
    const st = await goferStat(sb.root, c.id, '/tmp/hello.txt');
    assert.deepEqual([st.type, st.mode, st.size], ['file', 0o600, 20]);
    const names = (await goferList(sb.root, c.id, '/')).map((e) => e.name);
    for (const n of ['bin', 'etc', 'marker', 'proc', 'tmp']) assert.ok(names.includes(n), `${n} in ${names.join(' ')}`);
    // Mounts made for the container are where the broker looks: /dev is its tmpfs, with the device nodes.
    const dev = (await goferList(sb.root, c.id, '/dev')).map((e) => e.name);
    assert.ok(dev.includes('null') && dev.includes('pts'), dev.join(' '));
  });

  test('paths with "..", through an absolute symlink out, or through a relative symlink climbing out are refused', async () => {
    const c = container('escape', undefined, {
      prepare: (rootfs) => {
        symlinkSync('/', join(rootfs, 'link'));
        symlinkSync('../../../../../../../..', join(rootfs, 'tmp', 'up'));
      },
    });
    for (const p of ['../../etc/passwd', '/../../../etc/shadow', '/link/etc/shadow', '/tmp/up/etc/shadow']) {
      await assert.rejects(goferRead(sb.root, c.id, p), refused(p), p);
    }
    await assert.rejects(goferWrite(sb.root, c.id, '/tmp/up/tmp/planted-by-runts-test', 'x'), refused('/tmp/up/tmp/planted-by-runts-test'));
    assert.equal(existsSync('/tmp/planted-by-runts-test'), false);
  });

  /** A refusal of the gofer for a kernel file or a non-regular one: bad_config with the reason in `why`. */
  function kernelRefusal(why: string) {
    return (e: unknown) => e instanceof GoferError && e.code === 'bad_config' && e.why === why;
  }

  /** A container whose image plants links to the host kernel's files (through its /proc and /sys), a fifo, and a directory link into /sys. */
  function planted(name: string) {
    return container(name, undefined, {
      prepare: (rootfs) => {
        mkdirSync(join(rootfs, 'var/log'), { recursive: true });
        symlinkSync('../../proc/kmsg', join(rootfs, 'var/log/kern.log'));
        symlinkSync('../../proc/kallsyms', join(rootfs, 'var/log/syms'));
        symlinkSync('../proc/1/pagemap', join(rootfs, 'tmp/pagemap'));
        symlinkSync('../proc/1/comm', join(rootfs, 'tmp/comm'));
        symlinkSync('../sys/kernel/vmcoreinfo', join(rootfs, 'tmp/vmcore'));
        symlinkSync(CGROUP_LINK, join(rootfs, 'cgroups'));
        execFileSync('mkfifo', [join(rootfs, 'tmp/fifo')]);
      },
    });
  }

  // A cgroup hierarchy as the container sees it: a v1 one under the tmpfs at /sys/fs/cgroup, or the cgroup2 mount itself.
  const CGROUP_V1 = existsSync('/sys/fs/cgroup/memory');
  const CGROUP_LINK = CGROUP_V1 ? 'sys/fs/cgroup/memory' : 'sys/fs/cgroup';
  const CGROUP = CGROUP_V1 ? 'it is on cgroup' : 'it is on cgroup2';
  const PROC = 'it is under /proc (the kernel\'s state, not the container\'s files)';
  const SYS = 'it is under /sys (the kernel\'s state, not the container\'s files)';

  test('runts cp refuses the kernel\'s files — planted links into /proc and /sys, /proc and /sys themselves, a fifo, a device node — copying nothing', () => {
    const c = planted('cp-kernel');
    const dest = join(sb.dir, 'cp-kernel-out');
    mkdirSync(dest);
    writeFileSync(join(dest, 'kept'), 'kept\n');
    const cases: [string, string][] = [
      ['/var/log/syms', 'it is on procfs'],
      ['/tmp/pagemap', 'it is on procfs'],
      ['/tmp/vmcore', 'it is on sysfs'],
      ['/proc/kallsyms', PROC],
      ['/proc/self/environ', PROC],
      ['/proc/1/environ', PROC],
      ['/sys/kernel/vmcoreinfo', SYS],
      ['/tmp/fifo', 'it is a fifo'],
      ['/dev/null', 'it is a character device'],
    ];
    for (const [src, why] of cases) {
      // A timeout so that a broken gofer streaming a bottomless file (pagemap) fails the test instead of hanging it.
      const r = sb.runts(['cp', `${c.id}:${src}`, join(dest, 'out')], { timeoutMs: 15_000 });
      assert.equal(r.signal, null, `${src}: cp ended by itself`);
      assert.equal(r.status, 1, `${src}: ${r.stderr}`);
      assert.equal(r.stderr, `runts: cannot copy "${c.id}:${src}": ${why}; runts cp copies regular files only\n`, src);
      assert.deepEqual(readdirSync(dest), ['kept'], `${src}: nothing written on the host`);
      // An existing destination is left as it was.
      const over = sb.runts(['cp', `${c.id}:${src}`, join(dest, 'kept')], { timeoutMs: 15_000 });
      assert.equal(over.status, 1, over.stderr);
      assert.equal(readFileSync(join(dest, 'kept'), 'utf8'), 'kept\n', `${src}: the destination is untouched`);
      assert.deepEqual(readdirSync(dest), ['kept']);
    }
  });

  test('the broker neither stats nor lists /proc, /sys, or what links there (the host kernel log behind /var/log/kern.log is never opened)', async () => {
    const c = planted('stat-kernel');
    // Stat only: reading /proc/kmsg would consume the host's kernel log.
    await assert.rejects(goferStat(sb.root, c.id, '/var/log/kern.log'), kernelRefusal('it is on procfs'));
    await assert.rejects(goferRead(sb.root, c.id, '/var/log/syms'), kernelRefusal('it is on procfs'));
    await assert.rejects(goferStat(sb.root, c.id, '/proc/kallsyms'), kernelRefusal(PROC));
    await assert.rejects(goferStat(sb.root, c.id, '/proc'), kernelRefusal(PROC));
    await assert.rejects(goferList(sb.root, c.id, '/proc'), kernelRefusal(PROC));
    await assert.rejects(goferList(sb.root, c.id, '/proc/1'), kernelRefusal(PROC));
    await assert.rejects(goferList(sb.root, c.id, '/sys'), kernelRefusal(SYS));
    await assert.rejects(goferList(sb.root, c.id, '/tmp/../sys/kernel'), kernelRefusal(SYS));
    await assert.rejects(goferList(sb.root, c.id, '/cgroups'), kernelRefusal(CGROUP));
    await assert.rejects(goferStat(sb.root, c.id, '/cgroups'), kernelRefusal(CGROUP));
    // The root itself still lists its proc and sys entries (names only).
    const names = (await goferList(sb.root, c.id, '/')).map((e) => e.name);
    assert.ok(names.includes('proc') && names.includes('sys'), names.join(' '));
  });

  test('runts cp into /proc or /sys, directly or through a planted link, is refused and changes nothing', () => {
    const c = planted('cp-into-kernel');
    const src = join(sb.dir, 'cp-into-src');
    writeFileSync(src, 'pwned');
    const comm = () => readFileSync(`/proc/${c.init}/comm`, 'utf8');
    const before = comm();
    const cases: [string, string][] = [
      ['/proc/1/comm', PROC],
      ['/proc/planted', PROC],
      ['/tmp/comm', 'it is on procfs'],
      ['/sys/kernel/planted', SYS],
      ['/cgroups/planted', CGROUP],
    ];
    for (const [dst, why] of cases) {
      const r = sb.runts(['cp', src, `${c.id}:${dst}`], { timeoutMs: 15_000 });
      assert.equal(r.status, 1, `${dst}: ${r.stderr}`);
      assert.equal(r.stderr, `runts: cannot copy to "${c.id}:${dst}": ${why}; runts cp copies regular files only\n`, dst);
    }
    assert.equal(comm(), before, 'the init\'s comm is unchanged');
  });

  test('the gofer keeps only CAP_DAC_OVERRIDE, with empty bounding, inheritable and ambient sets and no_new_privs — and still serves files it does not own', async () => {
    const c = container('caps', undefined, {
      prepare: (rootfs) => {
        mkdirSync(join(rootfs, 'home/user'), { recursive: true });
        writeFileSync(join(rootfs, 'home/user/secret'), 'owned by 1000\n');
        chmodSync(join(rootfs, 'home/user/secret'), 0o600);
        chownSync(join(rootfs, 'home/user/secret'), 1000, 1000);
        chmodSync(join(rootfs, 'home/user'), 0o700);
        chownSync(join(rootfs, 'home/user'), 1000, 1000);
      },
    });
    await goferStat(sb.root, c.id, '/'); // its first connection starts it
    const status = readFileSync(`/proc/${c.gofer}/status`, 'utf8');
    const field = (name: string) => status.match(new RegExp(`^${name}:\\s+(\\S+)$`, 'm'))?.[1];
    assert.deepEqual(
      ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs'].map((f) => [f, field(f)]),
      [
        ['CapInh', '0000000000000000'],
        ['CapPrm', '0000000000000002'],
        ['CapEff', '0000000000000002'],
        ['CapBnd', '0000000000000000'],
        ['CapAmb', '0000000000000000'],
        ['NoNewPrivs', '1'],
      ],
    );
    assert.equal((await goferRead(sb.root, c.id, '/home/user/secret')).toString(), 'owned by 1000\n');
    await goferWrite(sb.root, c.id, '/home/user/secret', 'rewritten\n');
    await goferWrite(sb.root, c.id, '/home/user/new', 'new\n');
    assert.equal(readFileSync(join(c.rootfs, 'home/user/secret'), 'utf8'), 'rewritten\n');
    assert.deepEqual((await goferList(sb.root, c.id, '/home/user')).map((e) => e.name).sort(), ['new', 'secret']);
  });

  test('a refused or failed runts cp leaves the destination as it was, on the host and in the container', () => {
    const c = planted('cp-untouched');
    const dest = join(sb.dir, 'cp-untouched-out');
    writeFileSync(dest, 'kept\n');
    for (const src of ['/tmp/fifo', '/no/such/file']) {
      const r = sb.runts(['cp', `${c.id}:${src}`, dest], { timeoutMs: 15_000 });
      assert.equal(r.status, 1, r.stderr);
      assert.equal(readFileSync(dest, 'utf8'), 'kept\n', `${src}: the host file is untouched`);
    }
    const missing = join(sb.dir, 'no-such-source');
    const r = sb.runts(['cp', missing, `${c.id}:/marker`]);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, `runts: cannot copy "${missing}": it cannot be opened on the host (ENOENT)\n`);
    assert.equal(readFileSync(join(c.rootfs, 'marker'), 'utf8'), `rootfs of ${c.id}\n`, 'the container file is untouched');
    assert.deepEqual(readdirSync(sb.dir).filter((n) => n.includes('runts-cp')), [], 'no temporary file left');
  });

  test('runts cp still copies regular files both ways, replacing an existing destination whole', () => {
    const c = container('cp-files');
    const out = join(sb.dir, 'cp-files-out');
    writeFileSync(out, 'an older and longer content that must go\n');
    const r = sb.runts(['cp', `${c.id}:/marker`, out]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(out, 'utf8'), `rootfs of ${c.id}\n`);
    const src = join(sb.dir, 'cp-files-in');
    writeFileSync(src, 'into the container\n');
    const w = sb.runts(['cp', src, `${c.id}:/tmp/copied`]);
    assert.equal(w.status, 0, w.stderr);
    assert.equal(readFileSync(`/proc/${c.init}/root/tmp/copied`, 'utf8'), 'into the container\n');
  });

  test('a container that joins a mount namespace by path gets its own rootfs there, and a working gofer rooted in it', async () => {
    // A copy of the host's mount namespace (what the OCI suite joins): not the container's root.path.
    const holder = spawn('unshare', ['--mount', '--propagation', 'private', 'sleep', '1000'], { stdio: 'ignore' });
    try {
      assert.ok(await eventually(() => readlinkSync(`/proc/${holder.pid}/ns/mnt`) !== readlinkSync('/proc/self/ns/mnt')));
      const b = container('joined', (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'mount' ? { type: 'mount', path: `/proc/${holder.pid}/ns/mnt` } : n));
      });
      assert.equal(readlinkSync(`/proc/${b.gofer}/ns/mnt`), readlinkSync(`/proc/${holder.pid}/ns/mnt`));
      assert.equal(readlinkSync(`/proc/${b.init}/ns/mnt`), readlinkSync(`/proc/${holder.pid}/ns/mnt`));
      assert.equal((await goferRead(sb.root, b.id, '/marker')).toString(), `rootfs of ${b.id}\n`, 'the gofer is rooted at the rootfs');
      const seen = sb.runts(['exec', b.id, 'cat', '/marker']);
      assert.equal(seen.stdout, `rootfs of ${b.id}\n`, `the process runs in its rootfs, not the joined namespace's /: ${seen.stderr}`);
      await assert.rejects(goferList(sb.root, b.id, '/proc'), kernelRefusal(PROC));
    } finally {
      holder.kill('SIGKILL');
    }
  });

  test('a user-namespaced container has a working gofer too (joined its cgroup after unshare(CLONE_NEWUSER))', async () => {
    const c = container('userns', (s) => {
      addUserNamespace(s);
    });
    assert.equal(readlinkSync(`/proc/${c.gofer}/ns/user`), readlinkSync(`/proc/${c.init}/ns/user`));
    await goferWrite(sb.root, c.id, '/tmp/u', 'userns');
    assert.equal((await goferRead(sb.root, c.id, '/tmp/u')).toString(), 'userns');
  });

  test('after SIGKILL of the gofer the client fails clearly, and delete still cleans up', async () => {
    const c = container('killed');
    process.kill(c.gofer, 'SIGKILL');
    assert.ok(await eventually(() => !isGoferAlive(c.facts, nativePort())), 'the gofer is gone');
    await assert.rejects(goferRead(sb.root, c.id, '/marker'), notRunning(c.id));
    await assert.rejects(goferList(sb.root, c.id, '/'), notRunning(c.id));
    const del = sb.runts(['delete', '--force', c.id]);
    assert.equal(del.status, 0, del.stderr);
    assertNoLeftovers(sb, c.id, c.bundle);
  });

  test('stopGofer kills the recorded gofer; without a recorded pid it finds it through its socket', async () => {
    const a = container('stop-recorded');
    await stopGofer({ ...a.facts }, nativePort());
    assert.equal(isGoferAlive(a.facts, nativePort()), false, 'SIGKILLed and waited for');
    await assert.rejects(goferRead(sb.root, a.id, '/marker'), notRunning(a.id));

    const b = container('stop-unrecorded');
    const lost = { id: b.id, goferPid: 0 };
    await stopGofer(lost, nativePort()); // nothing known, no root: nothing to do
    assert.ok(isGoferAlive(b.facts, nativePort()));
    await stopGofer(lost, nativePort(), { root: sb.root });
    assert.equal(lost.goferPid, b.gofer, 'found through the socket');
    assert.equal(isGoferAlive(b.facts, nativePort()), false);
    for (const c of [a, b]) {
      assert.equal(sb.runts(['delete', '--force', c.id]).status, 0);
      assertNoLeftovers(sb, c.id, c.bundle);
    }
  });

  // Wiring stopGofer into teardown is the lead's (src/actors/effects/destroy-container.ts); until then this reports as TODO.
  test('delete kills the gofer', async () => {
    const c = container('deleted');
    assert.ok(isGoferAlive(c.facts, nativePort()));
    assert.equal(sb.runts(['delete', '--force', c.id]).status, 0);
    assert.ok(await eventually(() => !isGoferAlive(c.facts, nativePort()), 2000), 'the gofer is gone after delete');
  });
});
