// runts as an ordinary user (README "Without root"): real containers run by test users made with useradd, through
// setpriv. Needs root to make the users (and the delegated cgroup), as the other real-container tests do.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { isRoot, REPO, RUNTS, Sandbox } from '../helpers/runts.js';
import { fakeHybridCgroupfs } from '../helpers/fake-cgroupfs.js';
import { hasIdMappers, TestUser } from '../helpers/rootless.js';
import type { Spec } from '../../src/oci/types.js';

const skip = isRoot ? false : 'needs root (to make test users)';

describe('runts without root', { skip }, () => {
  let sb: Sandbox;
  let user: TestUser;
  let other: TestUser;
  let xdg: string;
  let env: Record<string, string>;

  before(() => {
    sb = new Sandbox();
    user = new TestUser();
    other = new TestUser();
    xdg = user.privateDir(sb.dir, 'xdg');
    env = { XDG_RUNTIME_DIR: xdg };
  });

  after(() => {
    // The user's containers first (its store is its own), then the users.
    for (const u of [user, other]) u?.remove();
    sb?.cleanup();
  });

  /** A bundle whose config.json the user wrote with `runts spec --rootless`, then changed by `edit`. */
  function rootlessBundle(id: string, edit: (s: Spec) => void): string {
    const dir = sb.bundle(id);
    rmSync(join(dir, 'config.json'));
    chownSync(dir, user.uid, user.gid);
    const made = user.runts(['spec', '--rootless'], env, dir);
    assert.equal(made.status, 0, made.stderr);
    const spec = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Spec;
    spec.process!.terminal = false;
    edit(spec);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
    return dir;
  }

  const runts = (args: string[]) => user.runts(args, env);

  it('runs `runts spec --rootless` in a user namespace of the caller\'s own ids, its state under $XDG_RUNTIME_DIR/runts', () => {
    const id = sb.id('rl-run');
    const bundle = rootlessBundle(id, (s) => {
      s.process!.args = ['sh', '-c', 'id -u; id -g; cat /proc/self/uid_map /proc/self/setgroups; ls /dev/null /dev/zero'];
    });
    const r = runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    assert.deepEqual(lines, ['0', '0', `0 ${user.uid} 1`, 'deny', '/dev/null', '/dev/zero']);
    const root = join(xdg, 'runts');
    const st = statSync(root);
    assert.equal(st.uid, user.uid, 'the state root is the user\'s');
    assert.equal(st.mode & 0o777, 0o700);
    assert.equal(existsSync(join(root, id)), false, 'deleted after the run');
  });

  it('runs without a cgroup where none is delegated: pause, update and events --stats fail with one line; exec, ps, kill, delete work', () => {
    const id = sb.id('rl-detached');
    const bundle = rootlessBundle(id, (s) => {
      s.process!.args = ['sleep', '1000'];
    });
    const r = runts(['run', '-d', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    try {
      for (const [args, what] of [[['pause', id], 'pause'], [['update', '--memory', '100M', id], 'update'], [['events', '--stats', id], 'events --stats']] as const) {
        const refused = runts([...args]);
        assert.equal(refused.status, 1, `${what} must fail`);
        assert.match(refused.stderr, new RegExp(`^runts: container "${id}" has no cgroup .*: ${what} needs one; delegate a cgroup v2 subtree`));
        assert.equal(refused.stderr.trim().split('\n').length, 1);
      }
      assert.equal(JSON.parse(runts(['state', id]).stdout).status, 'running');
      const exec = runts(['exec', id, 'sh', '-c', 'id -u; cat /proc/1/cmdline']);
      assert.equal(exec.status, 0, exec.stderr);
      assert.equal(exec.stdout, '0\nsleep\x001000\x00');
      // A terminal: exec -t on a pty of the user's (script), the pty owned by the container's root, i.e. the user.
      const tty = user.run('script', ['--quiet', '--return', '--command', `${RUNTS} exec -t ${id} sh -c 'tty; stat -c %u $(tty)'`, '/dev/null'], { env, stdinOpen: true });
      assert.equal(tty.status, 0, tty.stderr + tty.stdout);
      assert.deepEqual(tty.stdout.split(/\r*\n/).slice(0, 2), ['/dev/pts/0', '0']);
      // The gofer, as the user: a file out of the container.
      const copied = join(xdg, 'copied-passwd');
      const cp = runts(['cp', `${id}:/etc/passwd`, copied]);
      assert.equal(cp.status, 0, cp.stderr);
      assert.equal(readFileSync(copied, 'utf8'), readFileSync(join(bundle, 'rootfs/etc/passwd'), 'utf8'));
      assert.equal(statSync(copied).uid, user.uid);
      const pid = JSON.parse(runts(['state', id]).stdout).pid as number;
      assert.deepEqual(runts(['ps', '--format', 'json', id]).stdout.trim(), JSON.stringify([pid]));
      assert.equal(runts(['kill', id, 'KILL']).status, 0);
      const del = runts(['delete', '--force', id]);
      assert.equal(del.status, 0, del.stderr);
      assert.equal(existsSync(join(xdg, 'runts', id)), false);
      assert.equal(existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] !== 'Z', false, 'the init is gone');
    } finally {
      runts(['delete', '--force', id]);
    }
  });

  it('runs every hook, the createContainer and startContainer ones inside the container\'s namespaces', () => {
    const id = sb.id('rl-hooks');
    const marks = user.privateDir(sb.dir, 'hook-marks');
    const outside = (point: string) => ({ path: '/bin/sh', args: ['sh', '-c', `echo ${point} $(id -u) >> ${marks}/log`] });
    // Inside: the rootfs is / (busybox there, the host's test dir not).
    const inside = { path: '/bin/sh', args: ['sh', '-c', `test -x /bin/busybox && test ! -e ${marks}`] };
    const bundle = rootlessBundle(id, (s) => {
      s.process!.args = ['true'];
      s.hooks = { createRuntime: [outside('createRuntime')], createContainer: [inside], startContainer: [inside], poststop: [outside('poststop')] };
    });
    const r = runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(marks, 'log'), 'utf8'), `createRuntime ${user.uid}\npoststop ${user.uid}\n`);
  });

  it('binds the host\'s /sys read-only for a sysfs mount, the network namespace not being the container\'s', () => {
    const id = sb.id('rl-sysfs');
    const bundle = rootlessBundle(id, (s) => {
      s.mounts = s.mounts!.map((m) => (m.destination === '/sys' ? { destination: '/sys', type: 'sysfs', source: 'sysfs', options: [] } : m));
      s.process!.args = ['sh', '-c', 'test -e /sys/kernel && grep " /sys " /proc/self/mounts'];
    });
    const r = runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^sysfs \/sys sysfs ro,/);
  });

  it('keeps rlimits within the user\'s own hard limit', () => {
    const id = sb.id('rl-limits');
    const hard = Number(readFileSync('/proc/self/limits', 'utf8').match(/^Max open files\s+\d+\s+(\d+)/m)![1]);
    const bundle = rootlessBundle(id, (s) => {
      s.process!.args = ['sh', '-c', 'ulimit -Hn'];
      s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: hard * 4, hard: hard * 4 }];
    });
    const r = runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), String(hard));
  });

  it('maps subordinate ids from /etc/subuid and /etc/subgid through newuidmap/newgidmap', { skip: hasIdMappers ? false : 'newuidmap/newgidmap missing (apt-get install uidmap)' }, () => {
    const id = sb.id('rl-subids');
    const bundle = rootlessBundle(id, (s) => {
      s.linux!.uidMappings = [{ containerID: 0, hostID: user.uid, size: 1 }, { containerID: 1, hostID: user.subStart, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: user.gid, size: 1 }, { containerID: 1, hostID: user.subStart, size: 65536 }];
      s.process!.user = { uid: 1000, gid: 1000, additionalGids: [1001] };
      s.process!.args = ['sh', '-c', 'id; cat /proc/self/uid_map /proc/self/gid_map'];
    });
    const r = runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    assert.equal(lines[0], 'uid=1000 gid=1000 groups=1001');
    assert.deepEqual(lines.slice(1), [`0 ${user.uid} 1`, `1 ${user.subStart} 65536`, `0 ${user.gid} 1`, `1 ${user.subStart} 65536`]);
  });

  it('refuses ids the user was not given, with one line and nothing left behind', { skip: hasIdMappers ? false : 'newuidmap/newgidmap missing' }, () => {
    const id = sb.id('rl-theft');
    const bundle = rootlessBundle(id, (s) => {
      // The other user's range: newuidmap must refuse it.
      s.linux!.uidMappings = [{ containerID: 0, hostID: user.uid, size: 1 }, { containerID: 1, hostID: other.subStart, size: 1000 }];
      s.process!.args = ['true'];
    });
    const r = runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /newuidmap/);
    assert.equal(runts(['list', '-q']).stdout.trim(), '');
    assert.equal(existsSync(join(xdg, 'runts', id)), false);
  });

  it('makes the cgroup only in the hierarchies the user may write (a fake tree with only its cgroup2 tree the user\'s)', () => {
    const fake = join(sb.dir, 'fake-cgroupfs');
    mkdirSync(fake, { mode: 0o755 });
    const layout = fakeHybridCgroupfs(fake);
    chownSync(layout.unified!, user.uid, user.gid);
    const script = join(sb.dir, 'skip-denied.ts');
    writeFileSync(
      script,
      `import { detectLayout, openCgroup } from ${JSON.stringify(join(REPO, 'src/linux/cgroups/index.ts'))};
const layout = detectLayout({ mountinfoPath: '${fake}/mountinfo', procCgroupPath: '${fake}/cgroup', root: '${fake}/root' });
let strict = '';
try { openCgroup(layout, '/runts/strict').create(); } catch (e) { strict = (e as Error).message; }
const cg = openCgroup(layout, '/runts/x');
const made = cg.create(undefined, { skipDenied: true });
console.log(JSON.stringify({ strict, created: made.created, skipped: made.skipped.length, dirs: cg.dirs, procs: cg.procsFiles() }));
`,
    );
    const r = user.run(process.execPath, ['--import', 'tsx', script], { cwd: REPO });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.match(out.strict, /^cannot create cgroup .*: EACCES/, 'without skipDenied (root\'s path) the refusal is an error');
    assert.equal(out.created, true);
    assert.equal(out.skipped, layout.hierarchies.length - 1);
    assert.deepEqual(out.dirs, [join(layout.unified!, 'runts/x')]);
    assert.deepEqual(out.procs, [join(layout.unified!, 'runts/x/cgroup.procs')]);
  });

  it('never falls back to root\'s store, nor uses another user\'s', () => {
    const noXdg = user.runts(['list'], {});
    assert.equal(noXdg.status, 1);
    assert.match(noXdg.stderr, /^runts: XDG_RUNTIME_DIR is not set .* or pass --root <dir>\n$/);
    const rootStore = user.runts(['--root', sb.root, 'list'], {});
    assert.equal(rootStore.status, 1, 'root\'s store is not the user\'s');
    // The other user cannot open this user's root (0700) ...
    assert.equal(runts(['list']).status, 0);
    const theirs = other.runts(['--root', join(xdg, 'runts'), 'list'], {});
    assert.equal(theirs.status, 1);
    assert.match(theirs.stderr, /EACCES|permission denied/i);
    // ... nor a shared, writable directory someone else owns.
    const shared = join(sb.dir, 'shared-root');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const sharedUse = other.runts(['--root', shared, 'list'], {});
    assert.equal(sharedUse.status, 1);
    assert.match(sharedUse.stderr, /^runts: state root ".*shared-root" is owned by uid 0 with mode 777: without root, runts only uses a state root of your own/);
    assert.equal(existsSync(join(shared, 'runts.mdb')), false, 'nothing made there');
  });
});

// A real cgroup v2 subtree delegated to the user (chown of the directory and its cgroup.procs, cgroup.threads and
// cgroup.subtree_control, as systemd's Delegate= does), the runts process started inside it.
const unified = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'].find((d) => existsSync(join(d, 'cgroup.procs')) && existsSync(join(d, 'cgroup.subtree_control')));
const delegationSkip = skip || (unified ? false : 'no cgroup v2 tree on this host');

describe('runts without root, in a delegated cgroup v2 subtree', { skip: delegationSkip }, () => {
  let sb: Sandbox;
  let user: TestUser;
  let delegated: string;
  let env: Record<string, string>;

  before(() => {
    sb = new Sandbox();
    user = new TestUser();
    env = { XDG_RUNTIME_DIR: user.privateDir(sb.dir, 'xdg') };
    delegated = join(unified!, `runts-rl-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    mkdirSync(delegated);
    for (const f of ['', 'cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control']) chownSync(join(delegated, f), user.uid, user.gid);
  });

  after(() => {
    user?.remove();
    for (const dir of [join(delegated, 'c'), delegated]) {
      try {
        rmdirSync(dir);
      } catch {
        // not made, or already removed
      }
    }
    sb?.cleanup();
  });

  /** runts as the user, from a process root moved into the delegated cgroup first (as a user's session would be). */
  const runtsInside = (args: string[]) => {
    const shell = `echo $$ > ${delegated}/cgroup.procs && exec setpriv --reuid ${user.uid} --regid ${user.gid} --init-groups env XDG_RUNTIME_DIR=${env.XDG_RUNTIME_DIR} ${RUNTS} "$@"`;
    const r = spawnSync('sh', ['-c', shell, 'sh', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('puts the container in a cgroup below the delegated one; pause and resume work; delete removes it', () => {
    const id = sb.id('rl-cg');
    const bundle = sb.bundle(id);
    chownSync(bundle, user.uid, user.gid);
    rmSync(join(bundle, 'config.json'));
    assert.equal(user.runts(['spec', '--rootless'], env, bundle).status, 0);
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as Spec;
    spec.process!.terminal = false;
    spec.process!.args = ['sleep', '1000'];
    spec.linux!.cgroupsPath = `${delegated.slice(unified!.length)}/c`;
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    const r = runtsInside(['create', '--bundle', bundle, id]);
    try {
      assert.equal(r.status, 0, r.stderr);
      const pid = JSON.parse(user.runts(['state', id], env).stdout).pid as number;
      assert.equal(readFileSync(join(delegated, 'c', 'cgroup.procs'), 'utf8').trim(), String(pid));
      assert.equal(statSync(join(delegated, 'c')).uid, user.uid);
      assert.equal(user.runts(['start', id], env).status, 0);
      // exec from inside the delegated subtree joins the container's cgroup; from outside it (a shell in the root
      // cgroup) the kernel refuses the move, and the process runs in its own cgroup, as with runc.
      const inside = runtsInside(['exec', id, 'grep', '^0::', '/proc/self/cgroup']);
      assert.equal(inside.status, 0, inside.stderr);
      assert.equal(inside.stdout.trim(), `0::${delegated.slice(unified!.length)}/c`);
      const outside = user.runts(['exec', id, 'true'], env);
      assert.equal(outside.status, 0, outside.stderr);
      const paused = user.runts(['pause', id], env);
      assert.equal(paused.status, 0, paused.stderr);
      assert.equal(JSON.parse(user.runts(['state', id], env).stdout).status, 'paused');
      assert.equal(readFileSync(join(delegated, 'c', 'cgroup.freeze'), 'utf8').trim(), '1');
      assert.equal(user.runts(['resume', id], env).status, 0);
      assert.equal(JSON.parse(user.runts(['state', id], env).stdout).status, 'running');
      const del = user.runts(['delete', '--force', id], env);
      assert.equal(del.status, 0, del.stderr);
      assert.equal(existsSync(join(delegated, 'c')), false, 'the cgroup is removed');
    } finally {
      user.runts(['delete', '--force', id], env);
    }
  });
});
