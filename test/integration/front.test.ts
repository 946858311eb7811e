// The native front (bin/runts, src/front/front.c) and the warm host's end (src/supervisor/front-host.ts), with real
// containers: the same command lines through Node and through a warm host print the same bytes and exit the same;
// what the host ran is recorded under the host's pid; another uid is refused; a host that dies mid-command loses
// nothing; a stopped host is not waited for; a host of another protocol version makes the front fall back;
// auto-start is on by default, off with RUNTS_AUTOSTART=0 or --no-autostart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, rmdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, RUNTS, Sandbox, cgroupHierarchies, eventually, isRoot, stopHost, type Result } from '../helpers/runts.js';
import type { TransitionRecord } from '../../src/persistence/store.js';
import { FRONT_VERSION } from '../../src/supervisor/front-host.js';
import { nativePort } from '../../src/native/index.js';

const skip = isRoot ? false : 'needs root: real containers and setpriv';
const sleeper = (spec: { process?: { args?: string[] } }) => (spec.process!.args = ['sleep', '1000']);
// The pid of whoever dispatched the last transition of `id` (a command through the host: the host's).
const lastPid = (sb: Sandbox, id: string) => (JSON.parse(sb.runts(['history', '-f', 'json', id]).stdout) as TransitionRecord[]).at(-1)!.pid;
const same = (a: Result, b: Result, what: string) => assert.deepEqual({ status: b.status, stdout: b.stdout, stderr: b.stderr }, { status: a.status, stdout: a.stdout, stderr: a.stderr }, what);

/** Pids of `runts supervise --auto` processes serving `root`. */
function autoHosts(root: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (argv.includes('--auto') && argv.includes('supervise') && argv.includes(root)) out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * Makes cgroup `path` in every hierarchy, ready to take a process: a v1 cpuset cgroup takes none before it has cpus
 * and mems, so each level gets its hierarchy's.
 */
function makeCallerCgroup(path: string): void {
  for (const h of cgroupHierarchies()) {
    mkdirSync(join(h, path), { recursive: true });
    const levels = path.split('/').filter(Boolean).map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    for (const f of ['cpuset.cpus', 'cpuset.mems']) if (existsSync(join(h, f))) for (const d of levels) writeFileSync(join(h, d, f), readFileSync(join(h, f)));
  }
}

/** Shell commands that move the shell into `cgroup` in every hierarchy (as a shim or conmon runs in its own). */
function moveShellInto(cgroup: string): string {
  return cgroupHierarchies().map((h) => `echo $$ > ${join(h, cgroup, 'cgroup.procs')}`).join('; ');
}

/** Reaps this process's exited children that it adopted as a subreaper (Node only reaps the ones it spawned). */
function reapAdopted(spawnedByNode?: number): void {
  const sys = nativePort();
  for (const pid of sys.procPids()) {
    const st = sys.procStat(pid);
    if (st?.ppid === process.pid && st.state === 'Z' && pid !== spawnedByNode) sys.waitPid(pid);
  }
}

describe('front and warm host', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(async () => {
    await sb.stopHosts();
    sb.cleanup();
  });

  test('the same command lines print the same bytes and exit the same through Node and through the host', async () => {
    const a = sb.id('same');
    const b = sb.id('same');
    const bundle = sb.bundle(a, sleeper);
    for (const id of [a, b]) assert.equal(sb.runts(['run', '-d', '--bundle', bundle, id]).status, 0);
    const reads = [
      ['state', a], ['list'], ['list', '-q'], ['list', '--format', 'json'], ['ps', '-f', 'json', a], ['ps', a], ['history', a],
      ['state', 'nosuch'], ['kill', 'nosuch'], ['delete', 'nosuch'], ['features'], ['state'], ['list', '--bogus'],
      ['update', '--pids-limit', 'x', a], ['state', '-h'], ['history'],
    ];
    const viaNode = reads.map((args) => sb.runts(args));
    const host = await sb.startHost();
    const viaHost = reads.map((args) => sb.runts(args));
    reads.forEach((args, i) => same(viaNode[i]!, viaHost[i]!, args.join(' ')));
    assert.equal(viaHost[0]!.status, 0, 'state of a live container');

    // Changes: the same commands on twin containers, b through Node (no host), a through a host. A change made by
    // the host is recorded under its pid.
    const changes: ((id: string) => string[])[] = [
      (id) => ['pause', id],
      (id) => ['resume', id],
      (id) => ['update', '--pids-limit', '50', id],
      (id) => ['kill', id, 'KILL'],
      (id) => ['delete', '--force', id],
    ];
    await sb.stopHosts();
    const byNode = changes.map((c) => sb.runts(c(b)));
    const host2 = await sb.startHost();
    changes.forEach((c, i) => {
      const r = sb.runts(c(a));
      same(byNode[i]!, r, c(a)[0]!);
      if (i === 0) assert.equal(lastPid(sb, a), host2.pid, 'pause ran in the host');
      if (i === 0) assert.notEqual(lastPid(sb, b), host2.pid, 'pause of b ran in Node');
    });
    assert.notEqual(host.pid, host2.pid);
    // start: c through Node, d through the host.
    const c = sb.id('start');
    const d = sb.id('start');
    for (const id of [c, d]) assert.equal(sb.runts(['create', '--bundle', bundle, id]).status, 0);
    await sb.stopHosts();
    const startNode = sb.runts(['start', c]);
    const host3 = await sb.startHost();
    same(startNode, sb.runts(['start', d]), 'start');
    assert.equal(lastPid(sb, d), host3.pid, 'start ran in the host');
    assert.equal(sb.state(d).status, 'running');
    for (const id of [c, d]) assert.equal(sb.runts(['delete', '--force', id]).status, 0);
    assert.equal(sb.runts(['state', a]).status, 1, 'deleted through the host');
    sb.untrack(a);
    sb.untrack(b);
  });

  test('create, run and exec through the host: the front spawns, so their processes are the caller\'s descendants', async () => {
    const sys = nativePort();
    const host = await sb.startHost();
    // As containerd's shim and conmon are: a subreaper caller gets the container's processes once the front exits.
    sys.setChildSubreaper(true);
    try {
      const id = sb.id('spawn');
      const bundle = sb.bundle(id, sleeper);
      const created = sb.runts(['create', '--bundle', bundle, '--pid-file', join(sb.dir, `${id}.pid`), id]);
      assert.equal(created.status, 0, created.stderr);
      assert.equal(lastPid(sb, id), host.pid, 'create ran in the host');
      const { pid } = sb.state(id);
      assert.equal(readFileSync(join(sb.dir, `${id}.pid`), 'utf8'), String(pid));
      assert.equal(sys.procStat(pid)?.ppid, process.pid, "the init is the caller's (reparented to it), not the host's child");
      assert.equal(sb.runts(['start', id]).status, 0);

      // exec in the foreground: the process's output and status, as through Node.
      const args = ['exec', id, 'sh', '-c', 'echo out; echo err >&2; exit 5'];
      const viaHost = sb.runts(args);
      assert.deepEqual([viaHost.status, viaHost.stdout, viaHost.stderr], [5, 'out\n', 'err\n']);
      assert.equal(lastPid(sb, id), host.pid, 'exec ran in the host');
      const failed = sb.runts(['exec', id, '/nosuch']);
      await sb.stopHosts();
      same(sb.runts(['exec', id, '/nosuch']), failed, 'exec of a missing program');
      const host2 = await sb.startHost();
      // exec -d: the process is the caller's too.
      const execPid = join(sb.dir, `${id}.exec.pid`);
      assert.equal(sb.runts(['exec', '-d', '--pid-file', execPid, id, 'sleep', '100']).status, 0);
      assert.equal(sys.procStat(Number(readFileSync(execPid, 'utf8')))?.ppid, process.pid);

      // run in the foreground: the status, and the caller's SIGTERM forwarded to the process (it traps it).
      const rid = sb.id('spawnrun');
      const rbundle = sb.bundle(rid, (s) => (s.process!.args = ['sh', '-c', 'trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done']));
      const run = sb.runtsAsync(['run', '--bundle', rbundle, rid], { keepChild: true });
      const front = await run.child;
      assert.ok(await eventually(() => sb.runts(['state', rid]).stdout.includes('"running"'), 10_000), 'the run started');
      assert.equal(lastPid(sb, rid), host2.pid, 'run ran in the host');
      await new Promise((r) => setTimeout(r, 300)); // the trap is set once "ready" could be printed
      front.kill('SIGTERM');
      const ran = await run.result;
      assert.equal(ran.status, 7, ran.stderr);
      assert.match(ran.stdout, /ready\ngot TERM\n$/);
      assert.equal(sb.runts(['state', rid]).status, 1, 'a foreground run deletes its container');
      sb.untrack(rid);
      // As a shim would: the caller reaps what it adopted (the init, the exec'd process, the gofer) while delete
      // waits for them to be gone.
      const del = sb.runtsAsync(['delete', '--force', id], { keepChild: true });
      const deleting = (await del.child).pid; // Node's own child: left for Node to reap
      const reaper = setInterval(() => reapAdopted(deleting), 20);
      const deleted = await del.result.finally(() => clearInterval(reaper));
      assert.equal(deleted.status, 0, deleted.stderr);
      sb.untrack(id);
    } finally {
      sys.setChildSubreaper(false);
      reapAdopted();
    }
  });

  test('a caller in another mount namespace is not served: its command runs through Node, in its own view', async () => {
    const id = sb.id('ns');
    assert.equal(sb.runts(['run', '-d', '--bundle', sb.bundle(id, sleeper), id]).status, 0);
    const host = await sb.startHost();
    const inOther = spawnSync('unshare', ['--mount', RUNTS, '--root', sb.root, 'pause', id], { encoding: 'utf8', env: { ...process.env, RUNTS_AUTOSTART: '0' } });
    assert.equal(inOther.status, 0, inOther.stderr);
    assert.notEqual(lastPid(sb, id), host.pid, 'not run by the host');
    assert.equal(sb.runts(['resume', id]).status, 0);
    assert.equal(lastPid(sb, id), host.pid, 'a caller in the same namespaces is served');
    assert.equal(sb.runts(['delete', '--force', id]).status, 0);
    sb.untrack(id);
  });

  test('containers that set process.oomScoreAdj (as Docker\'s and Podman\'s do) share one OOM rebalancer thread in the host', async () => {
    const host = await sb.startHost();
    const threads = () => readdirSync(`/proc/${host.pid}/task`).length;
    const ids = [0, 1, 2, 3].map(() => sb.id('oom'));
    const make = (id: string) => {
      const r = sb.runts(['create', '--bundle', sb.bundle(id, (s) => ((s.process!.oomScoreAdj = 0), sleeper(s))), id]);
      assert.equal(r.status, 0, r.stderr);
    };
    make(ids[0]!);
    const after1 = threads();
    for (const id of ids.slice(1)) make(id);
    assert.equal(threads(), after1, 'no thread more for the next three sandboxes');
    for (const id of ids) assert.equal(sb.runts(['delete', '--force', id]).status, 0);
    for (const id of ids) sb.untrack(id);
  });

  test('a relative cgroupsPath hangs from the creating caller\'s cgroup, through Node and through the host; later commands from other cgroups find it', async () => {
    const callers = ['callerA', 'callerB'].map((c) => `${sb.cgroupParent}/${c}`);
    for (const c of callers) makeCallerCgroup(c);
    // The command run from a process in `cgroup` (in every hierarchy), as a shim or conmon would call runts. Output
    // to a file: a detached container holds the caller's stdio, and a pipe would not end before it does.
    const from = (cgroup: string, args: string[]) => {
      const errFile = join(sb.dir, `from-${cgroup.split('/').pop()}.stderr`);
      const r = spawnSync('sh', ['-ec', `${moveShellInto(cgroup)}; out=$1; root=$2; shift 2; exec "$0" --root "$root" "$@" 2>"$out"`, RUNTS, errFile, sb.root, ...args], {
        stdio: 'ignore',
        env: { ...process.env, RUNTS_AUTOSTART: '0' },
        timeout: 30_000,
      });
      return { status: r.status, stderr: readFileSync(errFile, 'utf8') };
    };
    try {
      for (const through of ['node', 'host']) {
        if (through === 'host') await sb.startHost();
        else await sb.stopHosts();
        const id = sb.id(`rel-${through}`);
        const bundle = sb.bundle(id, (spec) => {
          sleeper(spec);
          spec.linux!.cgroupsPath = `relc/${id}`;
        });
        const created = from(callers[0]!, ['run', '-d', '--bundle', bundle, id]);
        assert.equal(created.status, 0, created.stderr);
        const pid = sb.state(id).pid;
        for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')) {
          assert.ok(line.endsWith(`:${callers[0]}/relc/${id}`), `${through}: under the creator's cgroup: ${line}`);
        }
        const deleted = from(callers[1]!, ['delete', '--force', id]);
        assert.equal(deleted.status, 0, `${through}: ${deleted.stderr}`);
        sb.untrack(id);
        for (const h of cgroupHierarchies()) assert.equal(existsSync(join(h, callers[0]!, 'relc', id)), false, `${through}: removed in ${h}`);
      }
    } finally {
      await sb.stopHosts();
      // Best effort: a failure above is the one to report (the sandbox's cleanup deletes what is still tracked).
      for (const h of cgroupHierarchies()) {
        for (const dir of [`${callers[0]}/relc`, ...callers]) {
          try {
            rmdirSync(join(h, dir));
          } catch {
            // gone, or still busy: the sandbox's cleanup tries again
          }
        }
      }
    }
  });

  test('a failed create through the host leaves nothing, and says what Node says', async () => {
    const id = sb.id('badcreate');
    const bundle = sb.bundle(id, (s) => (s.process!.args = ['/no/such/program']));
    const viaNode = sb.runts(['create', '--bundle', bundle, id]);
    await sb.startHost();
    const viaHost = sb.runts(['create', '--bundle', bundle, id]);
    same(viaNode, viaHost, 'create of a missing program');
    assert.equal(viaHost.status, 1);
    assert.equal(sb.runts(['state', id]).status, 1, 'no record');
    assert.equal(existsSync(join(sb.root, id)), false, 'no state directory');
    sb.untrack(id);
  });

  test('--log-format json lines of a command run by the host are the lines Node writes', async () => {
    const log = join(sb.dir, 'front.log.json');
    rmSync(log, { force: true });
    const args = ['--log-format', 'json', '--log', log, 'kill', 'nosuch', 'TERM'];
    await sb.stopHosts();
    const n = sb.runts(args);
    await sb.startHost();
    const h = sb.runts(args);
    same(n, h, 'kill nosuch');
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 2);
    const [x, y] = lines.map(({ time, ...rest }) => (assert.match(String(time), /^\d{4}-/), rest));
    assert.deepEqual(y, x);
    assert.equal(x!.level, 'error');
  });

  test('a relative --root is run through Node (the caller\'s cwd), with the same result', async () => {
    await sb.startHost();
    const abs = sb.runts(['list', '-q']);
    const rel = spawnSync(RUNTS, ['--root', 'state', 'list', '-q'], { cwd: sb.dir, encoding: 'utf8', env: { ...process.env, RUNTS_AUTOSTART: '0' } });
    assert.equal(rel.status, 0, rel.stderr);
    assert.equal(rel.stdout, abs.stdout);
  });

  test('only the host\'s uid may use its socket: the directory is 0700, and SO_PEERCRED refuses any other uid', async () => {
    const id = sb.id('peer');
    assert.equal(sb.runts(['run', '-d', '--bundle', sb.bundle(id, sleeper), id]).status, 0);
    await sb.startHost();
    const dir = join(sb.root, 'host');
    assert.equal(readdirSync(dir).includes('front.sock'), true);
    assert.equal(spawnSync('stat', ['-c', '%a', dir], { encoding: 'utf8' }).stdout.trim(), '700');
    assert.equal(spawnSync('stat', ['-c', '%a', join(dir, 'front.sock')], { encoding: 'utf8' }).stdout.trim(), '600');
    // Open the way on purpose (as a careless chmod would): the host itself must still refuse uid 65534. The client
    // sends a well-formed request to delete the container; the host answers "refused" and reads nothing.
    chmodSync(sb.root, 0o711);
    chmodSync(dir, 0o711);
    chmodSync(join(dir, 'front.sock'), 0o666);
    const client = `
      const net = require('node:net');
      const body = Buffer.from(['/', '4', 'runts', '--root', ${JSON.stringify(sb.root)}, 'delete', ''].join('\\0').replace(/\\0$/, '') + '\\0');
      const argcFixed = Buffer.from(['/', '5', 'runts', '--root', ${JSON.stringify(sb.root)}, 'delete', '--force'].join('\\0') + '\\0');
      void body;
      const h = Buffer.alloc(16);
      h.writeUInt32LE(0x46535452, 0); h.writeUInt32LE(1, 4); h.writeUInt32LE(argcFixed.length, 8); h.writeUInt32LE(3, 12);
      const s = net.createConnection(${JSON.stringify(join(dir, 'front.sock'))});
      let reply = '';
      s.on('connect', () => s.write(Buffer.concat([h, argcFixed])));
      s.on('data', (d) => (reply += d));
      s.on('close', () => process.stdout.write(reply));
      s.on('error', (e) => process.stdout.write('error ' + e.code));
    `;
    const r = spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, '-e', client], { encoding: 'utf8' });
    assert.match(r.stdout, /^refused uid 65534/, r.stderr);
    assert.equal(sb.state(id).status, 'running', 'nothing ran');
    // The front run as that uid finds a host of another uid: it never sends its fds and runs the command itself.
    const f = spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', RUNTS, '--root', sb.root, 'list', '-q'], {
      encoding: 'utf8',
      env: { ...process.env, RUNTS_AUTOSTART: '0' },
    });
    assert.doesNotMatch(f.stderr, /refused/);
    assert.notEqual(f.status, 0, 'as uid 65534 through Node: the root is not theirs');
    chmodSync(dir, 0o700);
    chmodSync(join(dir, 'front.sock'), 0o600);
    assert.equal(sb.runts(['delete', '--force', id]).status, 0);
    sb.untrack(id);
    // Without the chmod, uid 65534 cannot even reach the socket.
    const blocked = spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, '-e', client], { encoding: 'utf8' });
    assert.match(blocked.stdout, /^error EACCES/);
  });

  test('a host that dies during a command: a clear error, nothing lost, the next command reconciles', async () => {
    await sb.stopHosts();
    const id = sb.id('crash');
    assert.equal(sb.runts(['run', '-d', '--bundle', sb.bundle(id, sleeper), id]).status, 0);
    const host = await sb.startHost({ RUNTS_CRASH_AT: 'kill.after-signal' });
    const r = sb.runts(['kill', id, 'KILL']);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      `runts: the runts host (pid ${host.pid}) ended during \`kill\`: it may or may not have happened; check with \`runts state\` (the next command runs without that host)\n`,
    );
    assert.ok(await eventually(() => host.exitCode !== null || host.signalCode !== null), 'the host is gone');
    // The signal was sent before the host died; the next command (through Node, no host) reconciles and records it.
    assert.equal(sb.state(id).status, 'stopped');
    assert.equal(sb.runts(['delete', id]).status, 0);
    sb.untrack(id);
  });

  test('a stopped host (SIGSTOP) is not waited for: the command runs through Node, and the host serves again once continued', async () => {
    await sb.stopHosts();
    const id = sb.id('stopped');
    assert.equal(sb.runts(['run', '-d', '--bundle', sb.bundle(id, sleeper), id]).status, 0);
    const host = await sb.startHost();
    process.kill(host.pid!, 'SIGSTOP');
    try {
      // Its kernel still queues the front's connection: without the front's check this waits until SIGCONT.
      const r = sb.runts(['pause', id], { timeoutMs: 20_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.notEqual(lastPid(sb, id), host.pid, 'not run by the stopped host');
    } finally {
      process.kill(host.pid!, 'SIGCONT');
    }
    assert.equal(sb.runts(['resume', id]).status, 0);
    assert.equal(lastPid(sb, id), host.pid, 'the continued host serves again');
    assert.equal(sb.runts(['delete', '--force', id]).status, 0);
    sb.untrack(id);
  });

  test('a host of another protocol version answers "restart": the front runs the command itself and the host leaves', async () => {
    await sb.stopHosts();
    const id = sb.id('ver');
    assert.equal(sb.runts(['run', '-d', '--bundle', sb.bundle(id, sleeper), id]).status, 0);
    const host = await sb.startHost({ RUNTS_TEST_FRONT_VERSION: String(FRONT_VERSION - 1) });
    const r = sb.runts(['pause', id]);
    assert.equal(r.status, 0, r.stderr);
    assert.notEqual(lastPid(sb, id), host.pid, 'not run by the old host');
    assert.ok(await eventually(() => host.exitCode !== null, 10_000), 'the old host left');
    assert.equal(sb.runts(['delete', '--force', id]).status, 0);
    sb.untrack(id);
  });

  test('a host older than the build (runts rebuilt since it started) answers "restart" too', async () => {
    const id = sb.id('rebuilt');
    assert.equal(sb.runts(['run', '-d', '--bundle', sb.bundle(id, sleeper), id]).status, 0);
    const host = await sb.startHost();
    assert.equal(sb.runts(['pause', id]).status, 0);
    assert.equal(lastPid(sb, id), host.pid, 'the host ran it');
    // What a rebuild does to the host's own module file (tsc rewrites every file of dist/).
    const built = join(REPO, 'dist/supervisor/front-host.js');
    const now = new Date();
    utimesSync(built, now, now);
    assert.equal(sb.runts(['resume', id]).status, 0);
    assert.notEqual(lastPid(sb, id), host.pid, 'not run by the stale host');
    assert.ok(await eventually(() => host.exitCode !== null, 10_000), 'the stale host left');
    assert.equal(sb.runts(['delete', '--force', id]).status, 0);
    sb.untrack(id);
  });

  test('auto-start: on by default (a detached host appears, and leaves when idle); off with RUNTS_AUTOSTART=0 or --no-autostart', async () => {
    await sb.stopHosts();
    const off = new Sandbox();
    try {
      off.runts(['list']); // the store exists: a root runts has used
      assert.equal(off.runts(['list']).status, 0);
      assert.equal(off.runts(['--no-autostart', 'list'], { env: { RUNTS_AUTOSTART: '1' } }).status, 0);
      assert.equal(off.runts(['list'], { env: { RUNTS_AUTOSTART: '1' } }).status, 0);
      // The last command (default on) started one; before it, two commands with auto-start off started none.
      assert.ok(await eventually(() => autoHosts(off.root).length === 1, 20_000), 'one host for the root');
      const [pid] = autoHosts(off.root);
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      const ownSession = Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[3]);
      assert.notEqual(Number(stat[3]), ownSession, 'its own session (setsid)');
      assert.notEqual(Number(stat[1]), process.pid, 'not the caller\'s child');
      assert.ok(await eventually(() => /^0::\/runts-host$/m.test(readFileSync(`/proc/${pid}/cgroup`, 'utf8')), 20_000), 'its own cgroup');
      assert.ok(await eventually(() => existsSync(join(off.root, 'host/front.sock')), 20_000));
      const r = off.runts(['list', '-q'], { env: { RUNTS_AUTOSTART: '1' } });
      assert.equal(r.status, 0);
      // Idle: with RUNTS_HOST_IDLE unset a host stays 60 s; removing its socket sends it away at once.
      rmSync(join(off.root, 'host/front.sock'));
      assert.ok(await eventually(() => autoHosts(off.root).length === 0, 10_000), 'the host left');
    } finally {
      for (const p of autoHosts(off.root)) process.kill(p, 'SIGKILL');
      off.cleanup();
    }
  });

  test('an auto-started host leaves its starter\'s cgroup for good: containers it serves do not move it back', async () => {
    const s = new Sandbox();
    const starter = `${s.cgroupParent}/starter`;
    try {
      s.runts(['list']);
      makeCallerCgroup(starter);
      // As conmon or containerd's shim would: the first caller runs in a cgroup of its own, which it later removes.
      const first = spawnSync('sh', ['-ec', `${moveShellInto(starter)}; exec "$0" --root "$1" list`, RUNTS, s.root], { encoding: 'utf8', env: { ...process.env, RUNTS_AUTOSTART: '1' } });
      assert.equal(first.status, 0, first.stderr);
      assert.ok(await eventually(() => autoHosts(s.root).length === 1, 20_000), 'started');
      const [pid] = autoHosts(s.root);
      const inHostCgroup = () => readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n').every((l) => l.endsWith(':/runts-host'));
      assert.ok(await eventually(inHostCgroup, 20_000), 'moved to /runts-host in every hierarchy');
      // Containers made through the host: nothing of theirs may move the host back into a caller's cgroup.
      const id = s.id('warm');
      const env = { RUNTS_AUTOSTART: '1' };
      assert.equal(s.runts(['create', '--bundle', s.bundle(id), id], { env }).status, 0);
      assert.equal(s.runts(['start', id], { env }).status, 0);
      assert.equal(s.runts(['delete', '--force', id], { env }).status, 0);
      s.untrack(id);
      await new Promise((r) => setTimeout(r, 200)); // the warm-up writes run on the host's thread pool
      assert.ok(inHostCgroup(), `still in /runts-host: ${readFileSync(`/proc/${pid}/cgroup`, 'utf8')}`);
      for (const h of cgroupHierarchies()) rmdirSync(join(h, starter)); // nothing of ours is left in it
    } finally {
      const hosts = autoHosts(s.root);
      for (const p of hosts) process.kill(p, 'SIGKILL');
      // A killed host stays in its cgroup as a zombie until PID 1 reaps it: then the cgroups can go.
      await eventually(() => hosts.every((p) => !existsSync(`/proc/${p}`)), 15_000);
      s.cleanup();
    }
  });

  test('`runts supervise` on a used root starts no other host: it serves the front itself', async () => {
    const s = new Sandbox();
    const log = join(s.dir, 'supervisor.log');
    let supervisor: ChildProcess | undefined;
    try {
      s.runts(['list']); // a root runts has used: the front would auto-start a host for any other command
      const fd = openSync(log, 'w');
      supervisor = spawn(RUNTS, ['--root', s.root, 'supervise'], { stdio: ['ignore', fd, fd], env: { ...process.env, RUNTS_AUTOSTART: '1' } });
      closeSync(fd);
      assert.ok(await eventually(() => existsSync(join(s.root, 'supervisor.sock')) && existsSync(join(s.root, 'host/front.sock')), 20_000), readFileSync(log, 'utf8'));
      // A host the front started would have been exec'd before the supervisor's own Node began.
      assert.deepEqual(autoHosts(s.root), [], 'no auto-started host');
      assert.doesNotMatch(readFileSync(log, 'utf8'), /not serving the front/);
      // Commands through the front reach the supervisor: what they change is recorded under its pid.
      const id = s.id('sup');
      assert.equal(s.runts(['create', '--bundle', s.bundle(id, sleeper), id]).status, 0);
      assert.equal(lastPid(s, id), supervisor.pid);
      assert.equal(s.runts(['delete', '--force', id]).status, 0);
      s.untrack(id);
    } finally {
      if (supervisor) await stopHost(supervisor);
      for (const p of autoHosts(s.root)) process.kill(p, 'SIGKILL');
      s.cleanup();
    }
  });

  test('an auto-started host leaves after RUNTS_HOST_IDLE seconds without a command', async () => {
    const s = new Sandbox();
    try {
      s.runts(['list']);
      assert.equal(s.runts(['list'], { env: { RUNTS_AUTOSTART: '1', RUNTS_HOST_IDLE: '1' } }).status, 0);
      assert.ok(await eventually(() => autoHosts(s.root).length === 1, 20_000), 'started');
      assert.ok(await eventually(() => autoHosts(s.root).length === 0, 20_000), 'left when idle');
    } finally {
      for (const p of autoHosts(s.root)) process.kill(p, 'SIGKILL');
      s.cleanup();
    }
  });
});
