// Docker drives runts end to end: a private dockerd (Debian's docker.io 20.10) with `--add-runtime runts=bin/runts`
// runs what Docker users run — run --rm / -i / -it / -d, logs, exec, pause, top, stats, update, stop, kill, start,
// restart, rm -f, --init, --read-only, --user, capabilities, limits, volumes, --network none/host, --restart on-failure —
// and each test asserts what the user sees: output, exit codes, `docker inspect` state, limits in /sys/fs/cgroup.
// A few cases also run with `--runtime runc`, the reference. The image is a `docker import` of a busybox rootfs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { hasScript, until, type CtrResult } from '../helpers/containerd.js';
import { DOCKERD, Dockerd } from '../helpers/docker.js';
import { RUNTS, isRoot } from '../helpers/runts.js';

const skip = !isRoot
  ? 'needs root: dockerd and real containers'
  : !Dockerd.installed()
    ? `needs ${DOCKERD} and /usr/bin/docker (apt-get install docker.io)`
    : false;
const noPty = hasScript() ? false : 'needs util-linux `script` to give docker -t a pty';
const hasRunc = spawnSync('runc', ['--version'], { stdio: 'ignore' }).status === 0;

/** What a pty showed, without carriage returns and the `^@` script echoes for the EOF of its empty stdin. */
const ttyText = (r: CtrResult) => r.stdout.replace(/\r/g, '').replace(/\^@/g, '');

describe('Docker drives runts end to end', { skip, timeout: 600_000 }, () => {
  let d: Dockerd;
  const ok = (r: CtrResult) => assert.equal(r.status, 0, d.explain(r));

  before(async () => {
    d = await Dockerd.start();
  });
  after(async () => {
    await d?.stop();
  });

  // The basics, with runts and (where installed) runc: the same command must give the same result.
  for (const runtime of ['runts', 'runc']) {
    const rtSkip = runtime === 'runc' && !hasRunc ? 'runc is not installed' : false;
    const run = (flags: string[], cmd: string[], input?: string) =>
      d.docker(['run', '--rm', '--runtime', runtime, ...flags, d.image, ...cmd], { input });

    test(`${runtime}: run --rm prints the output and returns the process's exit code; nothing is left`, { skip: rtSkip }, async () => {
      const r = await d.docker(['run', '--rm', '--name', `rm-${runtime}`, '--runtime', runtime, d.image, 'sh', '-c', 'echo hello; exit 3']);
      assert.equal(r.stdout, 'hello\n', d.explain(r));
      assert.equal(r.status, 3, d.explain(r));
      const ps = await d.docker(['ps', '-a', '--format', '{{.Names}}']);
      assert.equal(ps.stdout.split('\n').includes(`rm-${runtime}`), false, `docker ps -a: ${ps.stdout}`);
      if (runtime === 'runts') {
        const list = spawnSync(RUNTS, ['--root', d.runtimeRoot, 'list', '-q'], { encoding: 'utf8', timeout: 15_000 });
        assert.equal(list.stdout.trim(), '', `runts still lists: ${list.stdout}${list.stderr}`);
      }
    });

    test(`${runtime}: run -i passes stdin through`, { skip: rtSkip }, async () => {
      const r = await run(['-i'], ['sh', '-c', 'cat; echo done'], 'piped line\n');
      assert.equal(r.stdout, 'piped line\ndone\n', d.explain(r));
      ok(r);
    });

    test(`${runtime}: --user, --read-only, --cap-drop ALL --cap-add NET_ADMIN`, { skip: rtSkip }, async () => {
      const u = await run(['--user', '1234:5678'], ['id']);
      assert.equal(u.stdout, 'uid=1234 gid=5678 groups=5678\n', d.explain(u));
      const ro = await run(['--read-only'], ['sh', '-c', 'touch /x 2>&1; echo "rc=$?"; touch /tmp/x && echo tmp-ok']);
      // --read-only leaves the rootfs read-only; Docker mounts nothing writable on /tmp by itself.
      assert.match(ro.stdout, /Read-only file system\nrc=1\n/, d.explain(ro));
      const caps = await run(['--cap-drop', 'ALL', '--cap-add', 'NET_ADMIN'], ['grep', '-E', '^Cap(Eff|Bnd|Prm)', '/proc/self/status']);
      // CAP_NET_ADMIN is bit 12.
      assert.equal(caps.stdout, 'CapPrm:\t0000000000001000\nCapEff:\t0000000000001000\nCapBnd:\t0000000000001000\n', d.explain(caps));
    });

    test(`${runtime}: --memory, --pids-limit and --cpus are the container's cgroup limits`, { skip: rtSkip }, async () => {
      const r = await run(['--memory', '64m', '--pids-limit', '42', '--cpus', '1.5'], [
        'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/pids/pids.max',
        '/sys/fs/cgroup/cpu/cpu.cfs_quota_us', '/sys/fs/cgroup/cpu/cpu.cfs_period_us',
      ]);
      assert.equal(r.stdout, `${64 * 1024 * 1024}\n42\n150000\n100000\n`, d.explain(r));
      ok(r);
    });
  }

  test('run -it: the process has a pty and its exit code is docker\'s', { skip: noPty }, async () => {
    const r = await d.docker(['run', '-it', '--rm', '--runtime', 'runts', d.image, 'sh', '-c', 'tty; exit 4'], { tty: true });
    assert.match(ttyText(r), /^\/dev\/pts\/\d+$/m, d.explain(r));
    assert.equal(r.status, 4, d.explain(r));
  });

  test('run -d, then logs / exec / pause / top / stats / update / stop / start / restart / kill / rm -f', async (t) => {
    const name = 'life';
    // The shell ignores SIGTERM, so `docker stop` has to fall back to SIGKILL.
    const started = await d.docker(['run', '-d', '--name', name, '--runtime', 'runts', d.image, 'sh', '-c', 'trap "" TERM; echo started; while true; do sleep 1; done']);
    ok(started);
    const pid = Number(await d.inspect(name, '{{.State.Pid}}'));
    assert.ok(pid > 0, `State.Pid ${pid}`);

    // Each step is a subtest, so one broken command still lets the later ones report.
    await t.test('logs shows what the process printed', async () => {
      let r: CtrResult | undefined;
      assert.ok(await until(async () => (r = await d.docker(['logs', name])).stdout === 'started\n', 10_000), r && d.explain(r));
    });

    await t.test('exec -e -w -u runs with that environment, directory and user', async () => {
      const r = await d.docker(['exec', '-e', 'FOO=bar', '-w', '/tmp', '-u', '1000:1000', name, 'sh', '-c', 'echo "$FOO $(pwd) $(id -u):$(id -g)"']);
      assert.equal(r.stdout, 'bar /tmp 1000:1000\n', d.explain(r));
      ok(r);
    });

    await t.test('exec returns the process\'s exit code', async () => {
      const r = await d.docker(['exec', name, 'sh', '-c', 'exit 7']);
      assert.equal(r.status, 7, d.explain(r));
    });

    await t.test('exec -it gives the process a pty', { skip: noPty }, async () => {
      const r = await d.docker(['exec', '-it', name, 'sh', '-c', 'tty; exit 5'], { tty: true });
      assert.match(ttyText(r), /^\/dev\/pts\/\d+$/m, d.explain(r));
      assert.equal(r.status, 5, d.explain(r));
    });

    await t.test('pause → paused, unpause → running', async () => {
      ok(await d.docker(['pause', name]));
      assert.equal(await d.inspect(name, '{{.State.Status}}'), 'paused');
      ok(await d.docker(['unpause', name]));
      assert.equal(await d.inspect(name, '{{.State.Status}}'), 'running');
    });

    await t.test('top lists the container\'s processes, its init first', async () => {
      const r = await d.docker(['top', name, '-o', 'pid,args']);
      ok(r);
      const pids = r.stdout.split('\n').slice(1).map((l) => Number(l.trim().split(/\s+/)[0])).filter((p) => p > 0);
      assert.ok(pids.includes(pid), `init pid ${pid} in ${JSON.stringify(r.stdout)}`);
      assert.match(r.stdout, /trap "" TERM/, d.explain(r));
    });

    await t.test('stats shows the memory in use and the pids', async () => {
      const r = await d.docker(['stats', '--no-stream', '--format', '{{.MemUsage}}|{{.PIDs}}', name]);
      ok(r);
      const [mem, pids] = r.stdout.trim().split('|');
      assert.match(mem, /^[1-9][\d.]*[KMG]iB \/ /, d.explain(r));
      assert.ok(Number(pids) >= 1, d.explain(r));
    });

    await t.test('update changes the limits the container sees', async () => {
      ok(await d.docker(['update', '--memory', '96m', '--memory-swap', '192m', '--pids-limit', '77', '--cpus', '0.5', name]));
      const r = await d.docker(['exec', name, 'cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/pids/pids.max', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us']);
      assert.equal(r.stdout, `${96 * 1024 * 1024}\n77\n50000\n`, d.explain(r));
    });

    await t.test('stop: SIGTERM is ignored, so SIGKILL after the timeout (exit 137)', async () => {
      ok(await d.docker(['stop', '-t', '1', name]));
      assert.equal(await d.inspect(name, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137');
    });

    await t.test('start runs the stopped container again', async () => {
      ok(await d.docker(['start', name]));
      assert.equal(await d.inspect(name, '{{.State.Status}}'), 'running');
      assert.notEqual(Number(await d.inspect(name, '{{.State.Pid}}')), pid);
    });

    await t.test('restart gives a new process', async () => {
      const before = Number(await d.inspect(name, '{{.State.Pid}}'));
      ok(await d.docker(['restart', '-t', '1', name]));
      assert.equal(await d.inspect(name, '{{.State.Status}}'), 'running');
      const now = Number(await d.inspect(name, '{{.State.Pid}}'));
      assert.ok(now > 0 && now !== before, `pid ${before} → ${now}`);
    });

    await t.test('kill → exited 137; rm -f of a running container removes it', async () => {
      ok(await d.docker(['kill', name]));
      assert.equal(await d.inspect(name, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137');
      ok(await d.docker(['start', name]));
      ok(await d.docker(['rm', '-f', name]));
      const ps = await d.docker(['ps', '-aq', '--filter', `name=^${name}$`]);
      assert.equal(ps.stdout.trim(), '', d.explain(ps));
    });
  });

  test('--init: docker-init is pid 1 and reaps the command', async () => {
    const r = await d.docker(['run', '--rm', '--init', '--runtime', 'runts', d.image, 'ps', '-o', 'pid,comm']);
    assert.match(r.stdout, /^\s*1 docker-init$/m, d.explain(r));
    assert.match(r.stdout, /^\s*\d+ ps$/m, d.explain(r));
    ok(r);
  });

  test('--network none: only the loopback; --network host: the host\'s UTS and network', async () => {
    const none = await d.docker(['run', '--rm', '--network', 'none', '--runtime', 'runts', d.image, 'ls', '/sys/class/net']);
    assert.equal(none.stdout, 'lo\n', d.explain(none));
    const host = await d.docker(['run', '--rm', '--network', 'host', '--runtime', 'runts', d.image, 'sh', '-c', 'hostname; ls /sys/class/net']);
    ok(host);
    const hostIfs = spawnSync('ls', ['/sys/class/net'], { encoding: 'utf8' }).stdout;
    assert.equal(host.stdout, `${hostname()}\n${hostIfs}`, d.explain(host));
  });

  test('volumes (-v bind :ro, named), --tmpfs, --device, --hostname, --shm-size, --ulimit, --sysctl', async () => {
    const host = join(d.dir, 'vol');
    mkdirSync(host);
    writeFileSync(join(host, 'f'), 'from the host\n');
    const vols = await d.docker(['run', '--rm', '--runtime', 'runts', '-v', `${host}:/mnt:ro`, '-v', 'named:/data', d.image, 'sh', '-c',
      'cat /mnt/f; touch /mnt/x 2>/dev/null || echo ro; echo kept > /data/v']);
    assert.equal(vols.stdout, 'from the host\nro\n', d.explain(vols));
    const again = await d.docker(['run', '--rm', '--runtime', 'runts', '-v', 'named:/data', d.image, 'cat', '/data/v']);
    assert.equal(again.stdout, 'kept\n', d.explain(again));
    const misc = await d.docker(['run', '--rm', '--runtime', 'runts', '--tmpfs', '/run:size=1m', '--device', '/dev/null:/dev/mynull',
      '--hostname', 'myhost', '--shm-size', '8m', '--ulimit', 'nofile=512:512', '--sysctl', 'net.ipv4.ip_forward=1', d.image, 'sh', '-c',
      'grep -o " /run tmpfs [^ ]*size=1024k" /proc/mounts; ls -l /dev/mynull | cut -c1; hostname; df -k /dev/shm | awk "NR==2{print \\$2}"; ulimit -n; cat /proc/sys/net/ipv4/ip_forward']);
    assert.equal(misc.stdout, ' /run tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k\nc\nmyhost\n8192\n512\n1\n', d.explain(misc));
  });

  test('--restart on-failure:2 runs the failing command three times, then leaves it exited', async () => {
    const name = 'flaky';
    ok(await d.docker(['run', '-d', '--name', name, '--restart', 'on-failure:2', '--runtime', 'runts', d.image, 'sh', '-c', 'echo run; exit 5']));
    let state = '';
    const done = await until(async () => (state = await d.inspect(name, '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}')) === 'exited 2 5', 60_000);
    assert.ok(done, `state: ${state}`);
    const logs = await d.docker(['logs', name]);
    assert.equal(logs.stdout, 'run\nrun\nrun\n', d.explain(logs));
    ok(await d.docker(['rm', '-f', name]));
  });

  test('at the end neither docker nor runts knows a container', async () => {
    // Every test above removed its containers; runts' own list agrees with docker's.
    const ps = await d.docker(['ps', '-aq']);
    assert.equal(ps.stdout.trim(), '', d.explain(ps));
    if (existsSync(d.runtimeRoot)) {
      const list = spawnSync(RUNTS, ['--root', d.runtimeRoot, 'list', '-q'], { encoding: 'utf8', timeout: 15_000 });
      assert.equal(list.stdout.trim(), '', `runts list: ${list.stdout}${list.stderr}`);
    }
  });
});
